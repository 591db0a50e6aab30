import { App } from "cdk8s";
import { ObjectStorage } from "../../../components/object-storage";
import { CNPG_CHART, CNPG_VERSION, Postgres } from "../../../components/postgres";
import { IRSA_ANNOTATION } from "../../../constructs/irsa";
import { dev, Environment, prod, staging } from "../../../stacks/environments";
import { Platform } from "../../../stacks/platform";
import { postgresPlatform } from "./support";

const local: Environment = {
  ...dev,
  name: "local",
  cloud: { ...dev.cloud, provider: "local" },
  sizing: { ...dev.sizing, objectStorage: { ...dev.sizing.objectStorage, endpoint: "https://minio.example.internal" } },
};

describe("Postgres cluster by tier", () => {
  it("runs one asynchronous instance in dev and no read-only pooler", () => {
    const { find, objects, platform } = postgresPlatform(dev);
    const cluster = find("Cluster", "postgres");
    expect(cluster.spec.instances).toBe(1);
    expect(cluster.spec.postgresql.synchronous).toBeUndefined();
    expect(cluster.spec.storage.size).toBe("5Gi");
    expect(cluster.spec.walStorage.size).toBe("2Gi");
    expect(objects.filter((o) => o.kind === "Pooler").map((o) => o.metadata.name)).toEqual(["postgres-pooler-rw"]);
    expect(platform.graph.has("postgres-ro")).toBe(false);
    expect(platform.graph.has("postgres-primary")).toBe(false);
    expect(platform.graph.has("postgres-join")).toBe(false);
  });

  it("runs three instances in prod with one synchronous replica, hard anti-affinity and zone spread", () => {
    const { find } = postgresPlatform(prod);
    const spec = find("Cluster", "postgres").spec;
    expect(spec.instances).toBe(3);
    expect(spec.postgresql.synchronous).toEqual({ method: "any", number: 1 });
    expect(spec.affinity).toEqual({ enablePodAntiAffinity: true, topologyKey: "kubernetes.io/hostname", podAntiAffinityType: "required" });
    expect(spec.topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { "cnpg.io/cluster": "postgres" } } },
    ]);
    expect(spec.resources).toEqual({ requests: { cpu: "2", memory: "8Gi" }, limits: { cpu: "4", memory: "8Gi" } });
    expect(spec.imageName).toBe("ghcr.io/cloudnative-pg/postgresql:16.6");
    expect(spec.enableSuperuserAccess).toBe(false);
    expect(spec.inheritedMetadata.annotations).toEqual({ "sidecar.istio.io/inject": "false" });
  });

  it("sizes the server from the memory limit and WAL volume", () => {
    const { find } = postgresPlatform(prod);
    expect(find("Cluster", "postgres").spec.postgresql.parameters).toMatchObject({
      shared_buffers: "2GB",
      effective_cache_size: "6GB",
      max_connections: "512",
      max_wal_size: "5GB",
      wal_compression: "lz4",
    });
  });

  it("runs a read-only pooler over the replicas in prod, each pooler with a PodDisruptionBudget", () => {
    const { find, platform } = postgresPlatform(prod);
    const ro = find("Pooler", "postgres-pooler-ro");
    expect(ro.spec).toMatchObject({ cluster: { name: "postgres" }, type: "ro", instances: 3 });
    expect(find("PodDisruptionBudget", "postgres-pooler-ro").spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { "cnpg.io/poolerName": "postgres-pooler-ro" } } });
    expect(platform.graph.node("postgres-ro").host).toBe("postgres-pooler-ro.postgres.svc.cluster.local");
  });

  it("types pool mode and sizes into the pooler", () => {
    const { find } = postgresPlatform(staging, { pgbouncer: { poolMode: "session", minPoolSize: 2 } });
    const rw = find("Pooler", "postgres-pooler-rw");
    expect(rw.spec.type).toBe("rw");
    expect(rw.spec.pgbouncer).toEqual({
      poolMode: "session",
      parameters: {
        default_pool_size: "10", min_pool_size: "2", reserve_pool_size: "5", reserve_pool_timeout: "3", max_client_conn: "500",
        max_db_connections: "0", server_idle_timeout: "600", query_wait_timeout: "120",
      },
    });
    expect(rw.spec.template.spec.containers).toEqual([
      { name: "pgbouncer", resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "128Mi" } } },
    ]);
  });

  it("installs the operator chart that runs CloudNativePG 1.24.4", () => {
    const { postgres, find } = postgresPlatform(dev);
    expect(postgres.operator.addon.definition).toMatchObject({ chart: "cloudnative-pg", version: CNPG_CHART.version, namespace: "cnpg-system", repoURL: "https://cloudnative-pg.github.io/charts" });
    expect(postgres.operator.addon.definition.values).toMatchObject({ image: { tag: CNPG_VERSION }, crds: { create: true } });
    expect(find("Application", "cloudnative-pg").spec.source.targetRevision).toBe("0.22.1");
  });
});

describe("Postgres consumers", () => {
  it("gives each consumer a database and an owner role whose password is only a Secret reference", () => {
    const { find, platform, postgres } = postgresPlatform(staging);
    const spec = find("Cluster", "postgres").spec;
    expect(spec.managed.roles).toEqual([
      { name: "order", ensure: "present", login: true, inherit: true, connectionLimit: -1, comment: "owner of order, used by order", passwordSecret: { name: "postgres-role-order" } },
      { name: "payment", ensure: "present", login: true, inherit: true, connectionLimit: -1, comment: "owner of payment, used by payment", passwordSecret: { name: "postgres-role-payment" } },
      {
        name: "stratum_provisioner", ensure: "present", login: true, inherit: true, connectionLimit: -1, createdb: true, inRoles: ["order", "payment"],
        comment: "creates the consumers' databases (CREATEDB, member of each owner role)", passwordSecret: { name: "postgres-role-provisioner" },
      },
    ]);
    expect(spec.bootstrap.initdb.postInitSQL).toEqual([
      'CREATE ROLE "order" NOLOGIN', 'CREATE DATABASE "order" OWNER "order"', 'REVOKE ALL ON DATABASE "order" FROM PUBLIC',
      'CREATE ROLE "payment" NOLOGIN', 'CREATE DATABASE "payment" OWNER "payment"', 'REVOKE ALL ON DATABASE "payment" FROM PUBLIC',
    ]);
    expect(postgres.consumerDatabases.map((d) => d.database)).toEqual(["order", "payment"]);
    const secrets = platform.secrets.all.filter((s) => s.remoteKey === "stratum/staging/postgres/order");
    expect(secrets).toEqual([
      expect.objectContaining({ namespace: "apps", name: "postgres-order", keys: ["username", "password"] }),
      expect.objectContaining({ namespace: "postgres", name: "postgres-role-order", keys: ["username", "password"], type: "kubernetes.io/basic-auth", labels: { "cnpg.io/reload": "true" } }),
    ]);
  });

  it("creates databases of consumers added after bootstrap with a hardened Job that changes name with the list", () => {
    const { find, objects } = postgresPlatform(prod);
    const job = objects.find((o) => o.kind === "Job" && o.metadata.name.startsWith("postgres-provisioner-"));
    expect(job.metadata.annotations).toEqual({ "argocd.argoproj.io/sync-wave": "20" });
    const pod = job.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 26 });
    expect(job.spec.template.metadata.annotations).toEqual({ "sidecar.istio.io/inject": "false" });
    const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      DATABASES: "order payment", PGHOST: "postgres-rw.postgres.svc.cluster.local", PGUSER: "stratum_provisioner", PGSSLMODE: "require",
      PGPASSWORD: { secretKeyRef: { name: "postgres-role-provisioner", key: "password" } },
    });
    expect(pod.containers[0].image).toBe("ghcr.io/cloudnative-pg/postgresql:16.6");
    expect(find("ServiceAccount", "postgres-provisioner").automountServiceAccountToken).toBe(false);
    const other = postgresPlatform(prod, {}, ["order", "payment", "customer"]).objects.find((o) => o.kind === "Job")!;
    expect(other.metadata.name).not.toBe(job.metadata.name);
  });

  it("hands a consumer host, port, database, user, password by reference and sslmode through the pooler", () => {
    const { find } = postgresPlatform(dev);
    const env = find("Deployment", "order").spec.template.spec.containers[0].env;
    expect(env.filter((e: { name: string }) => e.name.startsWith("POSTGRES_"))).toEqual([
      { name: "POSTGRES_DATABASE", value: "order" },
      { name: "POSTGRES_HOST", value: "postgres-pooler-rw.postgres.svc.cluster.local" },
      { name: "POSTGRES_PASSWORD", valueFrom: { secretKeyRef: { name: "postgres-order", key: "password" } } },
      { name: "POSTGRES_PORT", value: "5432" },
      { name: "POSTGRES_SSLMODE", value: "require" },
      { name: "POSTGRES_USER", value: "order" },
    ]);
  });

  it("hands a read-only consumer the replicas' pooler under POSTGRES_RO_*", () => {
    const platform = new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), "prod", { environment: prod });
    platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c));
    platform.add((s, c) => new Postgres(s, "Postgres", c));
    const report = platform.addService({ name: "reporting", image: "ghcr.io/acme/reporting:1.0.0", consumes: ["postgres", "postgres-ro"] });
    platform.finalize();
    const vars = report.workload.workload.toJson().spec.template.spec.containers[0].env.map((e: { name: string }) => e.name);
    expect(vars).toEqual(expect.arrayContaining(["POSTGRES_HOST", "POSTGRES_RO_HOST", "POSTGRES_RO_PASSWORD", "POSTGRES_RO_SSLMODE"]));
  });

  it("refuses more pooled connections than the server accepts, naming the numbers", () => {
    expect(() => postgresPlatform(dev, { parameters: { maxConnections: 40 } }, ["a", "b", "c"])).toThrow(
      "3 consumer database(s) x 1 PgBouncer pod(s) x 15 server connections per pool = 45, more than max_connections 40 minus 13 reserved = 27; raise parameters.maxConnections or lower the pool size",
    );
  });
});

describe("Postgres traffic", () => {
  it("declares operator, pooler, replication and backup edges in the graph", () => {
    const { platform } = postgresPlatform(prod);
    const edges = platform.graph.edges.filter((e) => /postgres|cnpg/.test(e.from) || /postgres|cnpg/.test(e.to)).map((e) => `${e.from}->${e.to}:${e.ports.join(",")}`);
    expect(edges).toEqual(expect.arrayContaining([
      "cnpg-operator->kube-apiserver:https",
      "kube-apiserver->cnpg-operator:https-webhook",
      "cnpg-operator->postgres-instances:status",
      "postgres->postgres-instances:tcp-postgres",
      "postgres-ro->postgres-instances:tcp-postgres",
      "postgres->kube-apiserver:https",
      "postgres-instances->kube-apiserver:https",
      "postgres-instances->postgres-primary:tcp-postgres",
      "postgres-instances->object-storage:https",
      "order->postgres:tcp-postgres",
      "postgres-initdb->kube-apiserver:https",
      "postgres-join->kube-apiserver:https",
      "postgres-join->postgres-primary:tcp-postgres",
    ]));
    expect(platform.graph.node("postgres-join").selector).toEqual({ "cnpg.io/cluster": "postgres", "cnpg.io/jobRole": "join" });
    expect(platform.graph.node("postgres-primary").selector).toEqual({ "cnpg.io/cluster": "postgres", "cnpg.io/podRole": "instance", "cnpg.io/instanceRole": "primary" });
  });

  it("lets only the poolers, the operator and the provisioning Job into the instances", () => {
    const { find } = postgresPlatform(prod);
    const np = find("NetworkPolicy", "allow-postgres-instances");
    const from = np.spec.ingress.map((r: any) => `${JSON.stringify(r.from[0].podSelector?.matchLabels ?? r.from[0].ipBlock)}:${r.ports.map((p: any) => p.port).join(",")}`);
    expect(from).toEqual([
      '{"app.kubernetes.io/instance":"cloudnative-pg","app.kubernetes.io/name":"cloudnative-pg"}:8000',
      '{"cnpg.io/poolerName":"postgres-pooler-rw"}:5432',
      '{"app.kubernetes.io/instance":"postgres-provisioner","app.kubernetes.io/name":"postgres-provisioner"}:5432',
      '{"cnpg.io/poolerName":"postgres-pooler-ro"}:5432',
    ]);
    // replication: every instance may reach whichever instance is primary, on 5432 only
    const primary = find("NetworkPolicy", "allow-postgres-primary");
    expect(primary.spec.podSelector.matchLabels).toEqual({ "cnpg.io/cluster": "postgres", "cnpg.io/instanceRole": "primary", "cnpg.io/podRole": "instance" });
    expect(primary.spec.ingress.map((r: any) => [r.from[0].podSelector.matchLabels, r.ports])).toEqual([
      [{ "cnpg.io/cluster": "postgres", "cnpg.io/podRole": "instance" }, [{ protocol: "TCP", port: 5432 }]],
      [{ "cnpg.io/cluster": "postgres", "cnpg.io/jobRole": "join" }, [{ protocol: "TCP", port: 5432 }]],
    ]);
    // the operator's Jobs may reach the API server (and nothing else unless declared)
    const initdb = find("NetworkPolicy", "allow-postgres-initdb");
    expect(initdb.spec.podSelector.matchLabels).toEqual({ "cnpg.io/cluster": "postgres", "cnpg.io/jobRole": "initdb" });
    expect(initdb.spec.egress.map((r: any) => r.ports[0].port)).toEqual([443]);
  });
});

describe("Postgres backups", () => {
  it("archives WAL and base backups to the backups bucket with the tier's retention, through the IRSA role", () => {
    const { find, storage, platform } = postgresPlatform(prod);
    const spec = find("Cluster", "postgres").spec;
    expect(spec.backup.retentionPolicy).toBe("30d");
    expect(spec.backup.barmanObjectStore).toMatchObject({
      destinationPath: `s3://${storage.bucket("backups").name}/postgres`,
      serverName: "postgres",
      s3Credentials: { inheritFromIAMRole: true },
      wal: { compression: "gzip" },
    });
    const role = platform.irsa.all.find((r) => r.purpose === "postgres-s3")!;
    expect(role).toMatchObject({ namespace: "postgres", serviceAccount: "postgres" });
    expect(spec.serviceAccountTemplate.metadata.annotations).toEqual({ [IRSA_ANNOTATION]: role.roleArn });
    expect(find("ScheduledBackup", "postgres-daily").spec).toEqual({
      cluster: { name: "postgres" }, schedule: "0 0 3 * * *", method: "barmanObjectStore", backupOwnerReference: "self", immediate: true,
    });
  });

  it("keeps backups per tier", () => {
    for (const [env, retention] of [[dev, "7d"], [staging, "14d"], [prod, "30d"]] as const) {
      expect(postgresPlatform(env).find("Cluster", "postgres").spec.backup.retentionPolicy).toBe(retention);
    }
  });

  it("uses static credentials by reference and the custom endpoint without IRSA", () => {
    const { find, platform } = postgresPlatform(local);
    const store = find("Cluster", "postgres").spec.backup.barmanObjectStore;
    expect(store.endpointURL).toBe("https://minio.example.internal");
    expect(store.s3Credentials).toEqual({ accessKeyId: { name: "s3-postgres", key: "accessKeyId" }, secretAccessKey: { name: "s3-postgres", key: "secretAccessKey" } });
    expect(platform.secrets.all.some((s) => s.namespace === "postgres" && s.name === "s3-postgres")).toBe(true);
  });

  it("backs up to the in-cluster store where there is no cloud account and no endpoint", () => {
    const bare: Environment = { ...local, name: "bare", sizing: { ...local.sizing, objectStorage: { ...local.sizing.objectStorage, endpoint: "" } } };
    const { find } = postgresPlatform(bare);
    expect(find("Cluster", "postgres").spec.backup.barmanObjectStore.endpointURL).toBe("http://minio.object-storage.svc.cluster.local:9000");
    const egress = find("NetworkPolicy", "allow-postgres-instances").spec.egress;
    expect(egress).toContainEqual({
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "object-storage" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "minio", "app.kubernetes.io/instance": "minio" } } }],
      ports: [{ protocol: "TCP", port: 9000 }],
    });
  });

  it("refuses a backups bucket that expires objects before the retention is due", () => {
    const short: Environment = {
      ...prod,
      sizing: { ...prod.sizing, objectStorage: { ...prod.sizing.objectStorage, buckets: { ...prod.sizing.objectStorage.buckets, backups: { ...prod.sizing.objectStorage.buckets.backups, retentionDays: 31 } } } },
    };
    expect(() => postgresPlatform(short)).toThrow("the backups bucket expires objects after 31 days, before backups kept for 30d (+7 days for the last base backup) are due; raise sizing.objectStorage.buckets.backups.retentionDays to at least 37");
  });

  it("needs object storage added first", () => {
    const platform = new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), "dev", { environment: dev });
    expect(() => platform.add((s, c) => new Postgres(s, "Postgres", c))).toThrow("dev/Postgres: needs the object-storage component, added before it, for continuous backup");
  });
});

describe("every backup and recovery points at an existing bucket and credential", () => {
  for (const env of [dev, prod, local]) {
    it(`holds in ${env.name}`, () => {
      const { objects, storage, platform } = postgresPlatform(env, { pointInTimeRecovery: { targetTime: "2026-03-01T09:30:00Z" } });
      const clusters = objects.filter((o) => o.kind === "Cluster");
      expect(clusters.map((c) => c.metadata.name)).toEqual(["postgres", "postgres-pitr"]);
      const stores = clusters.flatMap((c) => [
        ...(c.spec.backup ? [{ cluster: c, store: c.spec.backup.barmanObjectStore }] : []),
        ...(c.spec.externalClusters ?? []).map((x: any) => ({ cluster: c, store: x.barmanObjectStore })),
      ]);
      expect(stores).toHaveLength(3);
      const buckets = storage.buckets.map((b) => b.name);
      for (const { cluster, store } of stores) {
        const bucket = /^s3:\/\/([^/]+)\//.exec(store.destinationPath)![1];
        expect(buckets).toContain(bucket);
        const ns = cluster.metadata.namespace;
        if (store.s3Credentials.inheritFromIAMRole) {
          const arn = cluster.spec.serviceAccountTemplate.metadata.annotations[IRSA_ANNOTATION];
          const role = platform.irsa.all.find((r) => r.roleArn === arn);
          expect(role).toMatchObject({ namespace: ns, serviceAccount: cluster.metadata.name });
          expect(role!.statements.flatMap((s) => s.Resource)).toContain(`arn:aws:s3:::${bucket}/*`);
        } else {
          for (const ref of [store.s3Credentials.accessKeyId, store.s3Credentials.secretAccessKey]) {
            const secret = platform.secrets.all.find((s) => s.namespace === ns && s.name === ref.name);
            expect(secret?.keys).toContain(ref.key);
          }
        }
      }
    });
  }
});

describe("point-in-time recovery", () => {
  it("synthesizes a recovery cluster from the origin's backups up to the target time", () => {
    const { find, platform } = postgresPlatform(prod, { pointInTimeRecovery: { targetTime: "2026-03-01T09:30:00+01:00" } });
    const spec = find("Cluster", "postgres-pitr").spec;
    expect(spec.instances).toBe(1);
    expect(spec.bootstrap).toEqual({ recovery: { source: "origin", recoveryTarget: { targetTime: "2026-03-01T09:30:00+01:00" } } });
    expect(spec.externalClusters[0]).toMatchObject({ name: "origin", barmanObjectStore: { destinationPath: "s3://stratum-prod-backups/postgres", serverName: "postgres" } });
    expect(spec.backup.barmanObjectStore.serverName).toBe("postgres-pitr");
    expect(platform.graph.outgoing("postgres-pitr").map((e) => e.to)).toEqual(["kube-apiserver", "object-storage"]);
    expect(platform.graph.outgoing("postgres-pitr-restore").map((e) => e.to)).toEqual(["kube-apiserver", "object-storage"]);
    expect(platform.graph.node("postgres-pitr-restore").selector).toEqual({ "cnpg.io/cluster": "postgres-pitr", "cnpg.io/jobRole": "full-recovery" });
  });

  it("refuses a recovery cluster name that is not a DNS label", () => {
    expect(() => postgresPlatform(dev, { pointInTimeRecovery: { targetTime: "2026-03-01T09:30:00Z", name: "Restore_1" } })).toThrow('pointInTimeRecovery.name must be a DNS label (got "Restore_1")');
  });

  it("refuses a target time without an offset", () => {
    expect(() => postgresPlatform(dev, { pointInTimeRecovery: { targetTime: "2026-03-01 09:30" } })).toThrow(
      "pointInTimeRecovery.targetTime must be an RFC 3339 time with an offset, e.g. 2026-03-01T09:30:00Z (got \"2026-03-01 09:30\")",
    );
  });
});

describe("Postgres props", () => {
  it("rejects a floating image, a five-field schedule and operator-owned parameters in one message", () => {
    expect(() => postgresPlatform(dev, { imageName: "ghcr.io/cloudnative-pg/postgresql:16", backupSchedule: "0 3 * * *", parameters: { extra: { archive_mode: "off" } } })).toThrow(
      /imageName: .*floating tag '16'.*; backupSchedule must have six fields.*; postgresql parameters: extra.archive_mode is managed by the operator/,
    );
  });
});
