import type { ComponentSpecMetadata } from "../../constructs/imports/dapr-component-dapr.io";
import type { EnvValue } from "../../constructs/service-graph";
import type { PubSubBroker } from "../../stacks/environments/environment";

/** What a namespace's pub/sub Component is built from: the broker's Dapr type and metadata. */
export interface PubSubSpec {
  /** Dapr component type, e.g. `pubsub.redis`. */
  readonly type: string;
  /** Component metadata; credentials only as secret references. */
  readonly metadata: ComponentSpecMetadata[];
}

/** Connection details the platform's Redis hands a consumer (REDIS_* variables of its graph node). */
export type RedisConnection = Readonly<Record<string, EnvValue>>;

const literal = (name: string, value: string): ComponentSpecMetadata => ({ name, value });

function secretRef(name: string, v: EnvValue | undefined, what: string): ComponentSpecMetadata {
  if (v === undefined || typeof v === "string" || !("secret" in v)) throw new Error(`events: ${what} must be a Secret reference, got ${JSON.stringify(v)}`);
  return { name, secretKeyRef: { name: v.secret, key: v.key } };
}

/**
 * The pub/sub Component of a broker choice. Redis Streams uses the platform's Redis through its sentinels when it
 * has them (failover), the client ACL user and its password by reference; Kafka uses SASL/SCRAM over TLS with the
 * credentials by reference. Consumer groups are per app id, so each app gets every message once.
 */
export function pubsubSpec(broker: PubSubBroker, redis: RedisConnection | undefined, kafkaSecret: string | undefined): PubSubSpec {
  if (broker.kind === "redis-streams") {
    if (!redis) throw new Error("events: the pub/sub broker is redis-streams, but the platform has no 'redis' graph node");
    const str = (k: string) => (typeof redis[k] === "string" ? (redis[k] as string) : undefined);
    const sentinelHost = str("REDIS_SENTINEL_HOST");
    const failover = sentinelHost !== undefined && str("REDIS_MASTER_NAME") !== undefined;
    const host = failover ? `${sentinelHost}:${str("REDIS_SENTINEL_PORT") ?? "26379"}` : `${str("REDIS_HOST")}:${str("REDIS_PORT") ?? "6379"}`;
    const metadata: ComponentSpecMetadata[] = [
      literal("redisHost", host),
      secretRef("redisPassword", redis.REDIS_PASSWORD, "REDIS_PASSWORD"),
      literal("enableTLS", str("REDIS_TLS") === "true" ? "true" : "false"),
      literal("maxLenApprox", String(broker.maxLenApprox)),
      literal("consumerID", "{appID}"),
      literal("processingTimeout", "60s"),
      literal("redeliverInterval", "30s"),
      literal("concurrency", "16"),
    ];
    if (str("REDIS_USERNAME")) metadata.splice(1, 0, literal("redisUsername", str("REDIS_USERNAME")!));
    if (failover) {
      metadata.push(literal("failover", "true"), literal("sentinelMasterName", str("REDIS_MASTER_NAME")!));
      // the platform's sentinels authenticate clients with the same ACL user
      if (str("REDIS_USERNAME")) metadata.push(literal("sentinelUsername", str("REDIS_USERNAME")!));
      metadata.push(secretRef("sentinelPassword", redis.REDIS_PASSWORD, "REDIS_PASSWORD"));
    }
    return { type: "pubsub.redis", metadata };
  }
  if (!kafkaSecret) throw new Error("events: the Kafka broker needs its credentials Secret");
  return {
    type: "pubsub.kafka",
    metadata: [
      literal("brokers", broker.brokers.join(",")),
      literal("consumerGroup", "{appID}"),
      literal("clientID", "{appID}"),
      literal("authType", "password"),
      { name: "saslUsername", secretKeyRef: { name: kafkaSecret, key: "username" } },
      { name: "saslPassword", secretKeyRef: { name: kafkaSecret, key: "password" } },
      literal("saslMechanism", "SHA-512"),
      literal("disableTls", "false"),
      literal("initialOffset", "oldest"),
      literal("maxMessageBytes", "8388608"),
    ],
  };
}
