export { RedisComponent, RedisProps, RedisEndpoint, RedisTlsProps, REDIS_NODE, REDIS_SENTINEL_NODE, REDIS_IMAGE, REDIS_EXPORTER_IMAGE, DEFAULT_CLIENT_USER } from "./redis";
export { EvictionPolicy, AppendFsync, SavePoint, RedisPersistence, SentinelSettings, EVICTION_POLICIES } from "./redis-config";
export { RedisAclUser } from "./redis-scripts";
