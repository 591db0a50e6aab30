import { App, Testing } from "cdk8s";
import { RedisComponent, RedisProps, REDIS_EXPORTER_IMAGE, REDIS_IMAGE } from "../../../components/redis";
import { K8sObject, runPolicies, formatFinding } from "../../../policies";
import { DEFAULT_RULES } from "../../../policies/rules";
import { dev, Environment, prod } from "../../../stacks/environments";
import { Platform } from "../../../stacks/platform";
import { findOne } from "../../support/objects";

function build(environment: Environment, props: RedisProps = {}, consume = true) {
  const platform = new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), environment.name, { environment });
  const redis = platform.add((s, c) => new RedisComponent(s, "Redis", c, props));
  if (consume) platform.addService({ name: "order", image: "ghcr.io/acme/order:1.0.0", consumes: ["redis"] });
  platform.finalize();
  const objects = platform.components.flatMap((c) => Testing.synth(c)) as Array<K8sObject & Record<string, any>>;
  return { platform, redis, objects };
}

const envOf = (objs: any[]) => Object.fromEntries((objs ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe("RedisComponent", () => {
  const { platform, redis, objects } = build(prod);
  const sts = findOne(objects, "StatefulSet", "redis", "redis");
  const pod = sts.spec.template.spec;
  const sentinel = findOne(objects, "StatefulSet", "redis-sentinel", "redis");

  it("sizes the Redis and sentinel StatefulSets from the environment", () => {
    expect(sts.spec.replicas).toBe(3);
    expect(sentinel.spec.replicas).toBe(3);
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("16Gi");
    // ephemeral storage: 64Mi for logs, 64Mi /tmp and the 1Mi config volume
    expect(pod.containers[0].resources.limits).toEqual({ "cpu": "2", "memory": "2Gi", "ephemeral-storage": "129Mi" });
    expect(redis.files["redis.conf"]).toContain(`maxmemory ${1536 * 1024 * 1024}\n`);
    expect(redis.files["sentinel.conf"]).toContain("sentinel monitor stratum redis-0.redis.redis.svc.cluster.local 6379 2\n");
  });

  it("persists with RDB and AOF and refuses writes without a replica in prod", () => {
    const conf = redis.files["redis.conf"];
    expect(conf).toContain("appendonly yes\n");
    expect(conf).toContain("appendfsync everysec\n");
    expect(conf).toContain("save 3600 1 300 100 60 10000\n");
    expect(conf).toContain("maxmemory-policy volatile-lru\n");
    expect(conf).toContain("min-replicas-to-write 1\n");
  });

  it("spreads pods hard across nodes and zones in prod and keeps a PodDisruptionBudget", () => {
    expect(pod.topologySpreadConstraints.map((c: any) => c.whenUnsatisfiable)).toEqual(["DoNotSchedule", "DoNotSchedule"]);
    expect(findOne(objects, "PodDisruptionBudget", "redis", "redis").spec.maxUnavailable).toBe(1);
    expect(findOne(objects, "PodDisruptionBudget", "redis-sentinel", "redis").spec.maxUnavailable).toBe(1);
  });

  it("runs non-root on a read-only root filesystem, with pinned Redis and exporter images", () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, fsGroup: 999 });
    for (const c of pod.containers) expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(pod.containers.map((c: any) => c.image)).toEqual([REDIS_IMAGE, REDIS_EXPORTER_IMAGE]);
    expect(pod.containers[0].volumeMounts).toEqual(expect.arrayContaining([{ name: "run", mountPath: "/run/redis", readOnly: false }, { name: "data", mountPath: "/data" }]));
  });

  it("gives the exporter a metrics port named http-metrics and the monitor user's password by reference", () => {
    const exporter = pod.containers[1];
    expect(exporter.ports).toEqual([{ name: "http-metrics", containerPort: 9121, protocol: "TCP" }]);
    expect(envOf(exporter.env)).toMatchObject({ REDIS_USER: "monitor", REDIS_PASSWORD: { secretKeyRef: { name: "redis-user-monitor", key: "password" } } });
  });

  it("keeps passwords out of the ConfigMap and hands them to the pods only as Secret references", () => {
    const cm = findOne(objects, "ConfigMap", "redis-config", "redis");
    expect(Object.keys(cm.data).sort()).toEqual(["probe.sh", "redis.conf", "sentinel.conf", "start-redis.sh", "start-sentinel.sh"]);
    expect(JSON.stringify(cm.data)).not.toMatch(/requirepass|>[A-Za-z0-9]/);
    const env = envOf(pod.containers[0].env);
    for (const user of ["APP", "REPLICATION", "SENTINEL", "MONITOR"]) {
      expect(env[`REDIS_PASSWORD_${user}`]).toEqual({ secretKeyRef: { name: `redis-user-${user.toLowerCase()}`, key: "password" } });
    }
    expect(objects.filter((o) => o.kind === "Secret")).toEqual([]);
    const declared = platform.secrets.all.filter((s) => s.namespace === "redis").map((s) => `${s.name}:${s.remoteKey}`);
    expect(declared).toEqual([
      "redis-user-app:stratum/prod/redis/users/app",
      "redis-user-monitor:stratum/prod/redis/users/monitor",
      "redis-user-replication:stratum/prod/redis/users/replication",
      "redis-user-sentinel:stratum/prod/redis/users/sentinel",
    ]);
  });

  it("rolls the pods when the configuration changes", () => {
    const other = build(prod, { maxmemoryPolicy: "allkeys-lru" });
    const hash = (o: any[]) => findOne(o, "StatefulSet", "redis", "redis").spec.template.metadata.annotations["stratum.dev/config-sha256"];
    expect(hash(other.objects)).toMatch(/^[0-9a-f]{16}$/);
    expect(hash(other.objects)).not.toBe(hash(objects));
  });

  it("hands a consumer host, sentinel, master name, user and the password from a Secret in its own namespace", () => {
    const order = findOne(objects, "Deployment", "order", "apps");
    expect(envOf(order.spec.template.spec.containers[0].env)).toMatchObject({
      REDIS_HOST: "redis.redis.svc.cluster.local",
      REDIS_PORT: "6379",
      REDIS_SENTINEL_HOST: "redis-sentinel.redis.svc.cluster.local",
      REDIS_SENTINEL_PORT: "26379",
      REDIS_MASTER_NAME: "stratum",
      REDIS_USERNAME: "app",
      REDIS_PASSWORD: { secretKeyRef: { name: "redis-user-app", key: "password" } },
    });
    expect(platform.secrets.all.find((s) => s.namespace === "apps" && s.name === "redis-user-app")?.remoteKey).toBe("stratum/prod/redis/users/app");
  });

  it("lets a consumer reach Redis and the sentinels, and nothing else of the namespace", () => {
    const np = findOne(objects, "NetworkPolicy", "allow-order", "apps");
    const ports = np.spec.egress.flatMap((r: any) => r.ports.map((p: any) => p.port)).sort();
    expect(ports).toEqual([26379, 6379]);
    expect(platform.graph.incoming("redis-sentinel").map((e) => e.from).sort()).toEqual(["order", "redis"]);
  });

  it("declares replication and sentinel traffic in the graph (peers, sentinels to Redis, Redis to sentinels)", () => {
    const edges = platform.graph.edges.filter((e) => e.from.startsWith("redis")).map((e) => `${e.from}->${e.to}:${e.ports.join(",")}`);
    expect(edges).toEqual([
      "redis->redis-peer:tcp-redis",
      "redis->redis-sentinel:tcp-sentinel",
      "redis-sentinel->redis:tcp-redis",
      "redis-sentinel->redis-sentinel-peer:tcp-sentinel",
    ]);
    expect(platform.graph.node("redis").ports.map((p) => `${p.name}:${p.port}`)).toEqual(["tcp-redis:6379", "http-metrics:9121"]);
  });

  it("passes every policy", () => {
    const report = runPolicies(objects, DEFAULT_RULES);
    expect(report.errors.map(formatFinding)).toEqual([]);
  });

  it("runs one Redis and one sentinel in dev, accepting writes without replicas", () => {
    const d = build(dev, {}, false);
    expect(findOne(d.objects, "StatefulSet", "redis", "redis").spec.replicas).toBe(1);
    expect(findOne(d.objects, "StatefulSet", "redis-sentinel", "redis").spec.replicas).toBe(1);
    expect(d.redis.files["redis.conf"]).toContain("min-replicas-to-write 0\n");
    expect(d.redis.files["sentinel.conf"]).toContain(" 6379 1\n");
  });

  it("turns on TLS on every port and hands consumers the CA by reference", () => {
    const t = build(prod, { tls: {} });
    expect(t.redis.files["redis.conf"]).toContain("port 0\ntls-port 6379\n");
    expect(t.redis.files["redis.conf"]).toContain("tls-replication yes\n");
    expect(t.redis.files["sentinel.conf"]).toContain("tls-port 26379\n");
    expect(t.redis.files["probe.sh"]).toContain("--tls --cacert /etc/redis/tls/ca.crt");
    const tlsSecret = t.platform.secrets.all.find((s) => s.name === "redis-tls");
    expect(tlsSecret).toMatchObject({ namespace: "redis", type: "kubernetes.io/tls", keys: ["tls.crt", "tls.key", "ca.crt"] });
    const order = findOne(t.objects, "Deployment", "order", "apps");
    expect(envOf(order.spec.template.spec.containers[0].env)).toMatchObject({ REDIS_TLS: "true", REDIS_TLS_CA: { secretKeyRef: { name: "redis-ca", key: "ca.crt" } } });
    expect(envOf(findOne(t.objects, "StatefulSet", "redis", "redis").spec.template.spec.containers[1].env).REDIS_ADDR).toBe("rediss://127.0.0.1:6379");
  });

  it("refuses a maxmemory at or above the memory limit", () => {
    const env: Environment = { ...dev, sizing: { ...dev.sizing, redis: { ...dev.sizing.redis, maxmemory: "128Mi" } } };
    expect(() => build(env, {}, false)).toThrow("dev/Redis: sizing.redis.maxmemory (128Mi) must stay below the memory limit (128Mi)");
  });

  it("refuses a quorum larger than the sentinels and a replica requirement it cannot meet", () => {
    const env: Environment = { ...dev, sizing: { ...dev.sizing, redis: { ...dev.sizing.redis, sentinel: { ...dev.sizing.redis.sentinel, quorum: 2 } } } };
    expect(() => build(env, {}, false)).toThrow("sentinel quorum 2 exceeds the 1 sentinel(s)");
    expect(() => build(dev, { minReplicasToWrite: 1 }, false)).toThrow("minReplicasToWrite (1) exceeds the 0 replica(s)");
  });

  it("refuses ACL rules that would set a password", () => {
    expect(() => build(dev, { users: [{ name: "batch", rules: ">secret ~* +@all" }] }, false)).toThrow("ACL rules of 'batch' must not set passwords");
  });
});
