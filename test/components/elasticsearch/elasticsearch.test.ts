import { App, Testing } from "cdk8s";
import { ElasticsearchComponent, ElasticsearchProps } from "../../../components/elasticsearch";
import { ObjectStorage } from "../../../components/object-storage";
import { formatFinding, K8sObject, runPolicies } from "../../../policies";
import { DEFAULT_RULES } from "../../../policies/rules";
import { dev, Environment, prod, staging } from "../../../stacks/environments";
import { Platform } from "../../../stacks/platform";
import { findAll, findOne } from "../../support/objects";

interface Built { platform: Platform; es: ElasticsearchComponent; objects: Array<K8sObject & Record<string, any>> }

function build(environment: Environment, opts: { props?: ElasticsearchProps; storage?: boolean; client?: boolean } = {}): Built {
  const platform = new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), environment.name, { environment });
  if (opts.storage ?? true) platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c));
  const es = platform.add((s, c) => new ElasticsearchComponent(s, "Elasticsearch", c, opts.props));
  if (opts.client ?? true) {
    es.target.credentials({ namespace: "logging", name: "fluent-bit-es-credentials", keys: { username: "HTTP_User", password: "HTTP_Passwd" } });
    es.target.caCertificate("logging");
  }
  platform.finalize();
  const objects = platform.components.flatMap((c) => Testing.synth(c)) as Built["objects"];
  return { platform, es, objects };
}

const local: Environment = { ...dev, name: "local", cloud: { ...dev.cloud, provider: "local" }, sizing: { ...dev.sizing, objectStorage: { ...dev.sizing.objectStorage, endpoint: "https://minio.example.internal" } } };

describe("ElasticsearchComponent in prod", () => {
  const { platform, es, objects } = build(prod);
  const cr = findOne(objects, "Elasticsearch", "elasticsearch", "elasticsearch");
  const sets = Object.fromEntries(cr.spec.nodeSets.map((s: any) => [s.name, s]));

  it("installs the ECK 3.0.0 operator chart from Elastic's repository as an add-on", () => {
    const app = findOne(objects, "Application", "elastic-operator");
    expect(app.spec.source).toMatchObject({ repoURL: "https://helm.elastic.co", chart: "eck-operator", targetRevision: "3.0.0" });
    expect(app.spec.source.helm.valuesObject).toMatchObject({ managedNamespaces: ["elasticsearch"], securityContext: { readOnlyRootFilesystem: true, runAsNonRoot: true } });
    expect(app.spec.destination.namespace).toBe("elastic-system");
  });

  it("runs dedicated masters, hot and warm node sets with the environment's counts and storage", () => {
    expect(Object.keys(sets)).toEqual(["master", "hot", "warm"]);
    expect(sets.master).toMatchObject({ count: 3, config: { "node.roles": ["master"] } });
    expect(sets.hot).toMatchObject({ count: 3, config: { "node.roles": ["data_hot", "data_content", "ingest"] } });
    expect(sets.warm).toMatchObject({ count: 2, config: { "node.roles": ["data_warm"] } });
    expect(sets.hot.volumeClaimTemplates[0]).toEqual({ metadata: { name: "elasticsearch-data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "200Gi" } } } });
  });

  it("keeps the data volumes when the resource is deleted, and is never pruned by a sync", () => {
    expect(cr.spec.volumeClaimDeletePolicy).toBe("DeleteOnScaledownOnly");
    expect(cr.metadata.annotations?.["argocd.argoproj.io/sync-options"]).toBe("Prune=false");
  });

  it("ties the JVM heap to half the memory limit", () => {
    const env = (set: any) => set.podTemplate.spec.containers[0].env.find((e: any) => e.name === "ES_JAVA_OPTS").value;
    expect(env(sets.hot)).toBe("-Xms4096m -Xmx4096m");
    expect(env(sets.master)).toBe("-Xms1024m -Xmx1024m");
    expect(sets.hot.podTemplate.spec.containers[0].resources.limits).toEqual({ cpu: "4", memory: "8Gi" });
  });

  it("runs every Elasticsearch and Kibana pod under the restricted profile, without mmap or a sysctl init container", () => {
    for (const podSpec of [...cr.spec.nodeSets.map((s: any) => s.podTemplate.spec), findOne(objects, "Kibana", "kibana", "elasticsearch").spec.podTemplate.spec]) {
      expect(podSpec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
      expect(podSpec.automountServiceAccountToken).toBe(false);
      expect(podSpec.initContainers).toBeUndefined();
      expect(podSpec.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    }
    expect(sets.hot.config["node.store.allow_mmap"]).toBe(false);
  });

  it("is zone aware when the environment spreads hard across zones", () => {
    expect(cr.metadata.annotations?.["eck.k8s.elastic.co/downward-node-labels"]).toBe("topology.kubernetes.io/zone");
    expect(sets.hot.config).toMatchObject({ "node.attr.zone": "${ZONE}", "cluster.routing.allocation.awareness.attributes": "k8s_node_name,zone" });
    expect(sets.hot.podTemplate.spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule" });
  });

  it("serves HTTPS with the certificate from the secret store and hands clients its CA and their credentials by reference", () => {
    expect(cr.spec.http.tls.certificate.secretName).toBe("elasticsearch-http-tls");
    const secrets = platform.secrets.all.map((s) => `${s.namespace}/${s.name}:${s.keys.join(",")}:${s.remoteKey}`);
    expect(secrets).toEqual(expect.arrayContaining([
      "elasticsearch/elasticsearch-http-tls:tls.crt,tls.key,ca.crt:stratum/prod/elasticsearch/http-tls",
      "logging/elasticsearch-ca:ca.crt:stratum/prod/elasticsearch/http-tls",
      "logging/fluent-bit-es-credentials:HTTP_User,HTTP_Passwd:stratum/prod/elasticsearch/users/fluent-bit-es-credentials",
      "elasticsearch/es-user-fluent-bit-es-credentials:HTTP_Passwd:stratum/prod/elasticsearch/users/fluent-bit-es-credentials",
    ]));
    expect(es.target).toMatchObject({ graphNode: "elasticsearch", host: "elasticsearch-es-http.elasticsearch.svc.cluster.local", port: 9200, logsIlmPolicy: "stratum-logs" });
    expect(objects.filter((o) => o.kind === "Secret")).toEqual([]);
  });

  it("declares HTTPS, transport, Kibana and operator traffic in the graph", () => {
    const edges = platform.graph.edges.map((e) => `${e.from}->${e.to}:${e.ports.join(",")}`);
    expect(edges).toEqual(expect.arrayContaining([
      "elasticsearch->elasticsearch-transport:tls-transport",
      "kibana->elasticsearch:https",
      "eck-operator->elasticsearch:https",
      "eck-operator->kube-apiserver:https",
      "kube-apiserver->eck-operator:https-webhook",
      "elasticsearch-bootstrap->elasticsearch:https",
      "elasticsearch->object-storage:https",
    ]));
    expect(platform.graph.node("elasticsearch").ports).toEqual([{ name: "https", port: 9200, protocol: "tls" }]);
    expect(platform.graph.node("kibana").ports).toEqual([{ name: "https", port: 5601, protocol: "tls" }]);
  });

  it("keeps logs hot, then warm after the warm age, and deletes them after the logging retention", () => {
    const ilm = es.resources.find((r) => r.kind === "ilm" && r.name === "stratum-logs")!.body as any;
    expect(ilm.policy.phases.warm.min_age).toBe("3d");
    expect(ilm.policy.phases.delete).toEqual({ min_age: "30d", actions: { delete: { delete_searchable_snapshot: true } } });
    expect(ilm.policy._meta).toEqual({ managed_by: "stratum", family: "logs" });
    const traces = es.resources.find((r) => r.kind === "ilm" && r.name === "stratum-traces")!.body as any;
    expect(traces.policy.phases.delete.min_age).toBe("14d");
  });

  it("templates the log indices above the built-in logs-*-* data stream template", () => {
    const t = es.resources.find((r) => r.kind === "index-template")!;
    expect(t).toMatchObject({ name: "stratum-logs", body: { index_patterns: ["logs-k8s-*"], priority: 200, template: { settings: { "index.lifecycle.name": "stratum-logs", "index.number_of_replicas": 1 } } } });
    expect(es.resources.filter((r) => r.kind === "index-template")).toHaveLength(1);
  });

  it("snapshots nightly into the object-storage backups bucket, authenticated by the IRSA role of its ServiceAccount", () => {
    const storage = platform.find(ObjectStorage)!;
    const repo = es.resources.find((r) => r.kind === "repository")!.body as any;
    expect(repo).toMatchObject({ type: "s3", settings: { bucket: storage.bucket("backups").name, base_path: "elasticsearch/prod" } });
    expect(es.resources.find((r) => r.kind === "slm")!.body).toMatchObject({ repository: "stratum-backups", retention: { expire_after: "30d" } });
    const sa = findOne(objects, "ServiceAccount", "elasticsearch", "elasticsearch");
    const grant = storage.grants.find((g) => g.principal.id === "elasticsearch")!;
    expect(grant.roleArn).toMatch(/^arn:aws:iam::333333333333:role\//);
    expect(sa.metadata.annotations?.["eks.amazonaws.com/role-arn"]).toBe(grant.roleArn);
    expect(cr.spec.serviceAccountName).toBe("elasticsearch");
    expect(sets.hot.podTemplate.spec.volumes[0].projected.sources[0].serviceAccountToken.audience).toBe("sts.amazonaws.com");
  });

  it("applies the lifecycle with a hardened, content-named bootstrap Job that creates the client users", () => {
    const job = findAll(objects, "Job")[0] as any;
    expect(job.metadata.name).toMatch(/^elasticsearch-bootstrap-[0-9a-f]{10}$/);
    const pod = job.spec.template.spec;
    expect(pod.containers[0].image).toBe("docker.io/library/node:20.18.1-bookworm-slim");
    expect(pod.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
    const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env.ES_PASSWORD).toEqual({ secretKeyRef: { name: "elasticsearch-es-elastic-user", key: "elastic" } });
    expect(env.ES_PASSWORD_FLUENT_BIT_ES_CREDENTIALS).toEqual({ secretKeyRef: { name: "es-user-fluent-bit-es-credentials", key: "HTTP_Passwd" } });
    const cm = findOne(objects, "ConfigMap", job.metadata.name, "elasticsearch");
    const config = JSON.parse(cm.data["config.json"]);
    expect(config.waitForStatus).toBe("green");
    expect(config.resources.map((r: any) => `${r.kind}:${r.name}`)).toEqual([
      "role:stratum_client", "user:fluent-bit-es-credentials", "ilm:stratum-logs", "ilm:stratum-traces", "index-template:stratum-logs",
      "repository:stratum-backups", "slm:stratum-nightly",
    ]);
    expect(cm.data["config.json"]).not.toMatch(/password"\s*:/);
  });

  it("hands a graph consumer the URL and the CA by reference in its own namespace", () => {
    const b = (() => {
      const platform = new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), "prod", { environment: prod });
      platform.add((s, c) => new ElasticsearchComponent(s, "Elasticsearch", c));
      platform.addService({ name: "search", image: "ghcr.io/acme/search:1.0.0", consumes: ["elasticsearch"] });
      platform.finalize();
      return platform.components.flatMap((c) => Testing.synth(c)) as Built["objects"];
    })();
    const env = findOne(b, "Deployment", "search", "apps").spec.template.spec.containers[0].env;
    expect(env).toEqual(expect.arrayContaining([
      { name: "ELASTICSEARCH_URL", value: "https://elasticsearch-es-http.elasticsearch.svc.cluster.local:9200" },
      { name: "ELASTICSEARCH_CA", valueFrom: { secretKeyRef: { name: "elasticsearch-ca", key: "ca.crt" } } },
    ]));
  });

  it("refuses credentials asked for after the platform was finalized", () => {
    expect(() => es.credentials({ namespace: "x", name: "late" })).toThrow("credentials for 'late' asked for after the platform was finalized");
  });

  it("passes every policy", () => {
    expect(runPolicies(objects, DEFAULT_RULES).errors.map(formatFinding)).toEqual([]);
  });
});

describe("ElasticsearchComponent in smaller tiers", () => {
  it("makes the single dev hot node master-eligible, leaves out the warm tier and accepts yellow", () => {
    const { es, objects } = build(dev);
    const cr = findOne(objects, "Elasticsearch", "elasticsearch", "elasticsearch");
    expect(cr.spec.nodeSets.map((s: any) => `${s.name}:${s.count}:${s.config["node.roles"].join("+")}`)).toEqual(["hot:1:master+data_hot+data_content+ingest"]);
    expect(cr.metadata.annotations).toEqual({ "argocd.argoproj.io/sync-options": "Prune=false" });
    expect(es.bootstrap!.job).toBeDefined();
    const ilm = es.resources.find((r) => r.name === "stratum-logs" && r.kind === "ilm")!.body as any;
    expect(Object.keys(ilm.policy.phases)).toEqual(["hot", "delete"]);
    expect((es.resources.find((r) => r.kind === "index-template")!.body as any).template.settings["index.number_of_replicas"]).toBe(0);
    const cm = findAll(objects, "ConfigMap").find((c) => (c.metadata.name ?? "").startsWith("elasticsearch-bootstrap")) as Record<string, any>;
    expect(JSON.parse(cm.data["config.json"]).waitForStatus).toBe("yellow");
  });

  it("uses static S3 credentials from the store as secure settings where there is no IRSA", () => {
    const { platform, objects } = build(local);
    const cr = findOne(objects, "Elasticsearch", "elasticsearch", "elasticsearch");
    expect(cr.spec.secureSettings).toEqual([{ secretName: "s3-elasticsearch", entries: [{ key: "accessKeyId", path: "s3.client.default.access_key" }, { key: "secretAccessKey", path: "s3.client.default.secret_key" }] }]);
    expect(platform.secrets.all.find((s) => s.namespace === "elasticsearch" && s.name === "s3-elasticsearch")).toBeDefined();
    expect(cr.spec.nodeSets[0].config["s3.client.default.endpoint"]).toBe("minio.example.internal");
  });

  it("takes no snapshots without an object-storage component, and says so by having no repository", () => {
    const { es } = build(staging, { storage: false });
    expect(es.snapshots).toBeUndefined();
    expect(es.resources.some((r) => r.kind === "repository" || r.kind === "slm")).toBe(false);
  });

  it("refuses an even number of dedicated masters and a heap that cannot run Elasticsearch", () => {
    const even: Environment = { ...prod, sizing: { ...prod.sizing, elasticsearch: { ...prod.sizing.elasticsearch, masters: { ...prod.sizing.elasticsearch.masters, count: 2 } } } };
    expect(() => build(even)).toThrow("sizing.elasticsearch.masters.count must be odd so that a majority survives losing one (got 2)");
    const tiny: Environment = { ...dev, sizing: { ...dev.sizing, elasticsearch: { ...dev.sizing.elasticsearch, hot: { ...dev.sizing.elasticsearch.hot, resources: { requests: { cpu: "1", memory: "512Mi" }, limits: { cpu: "1", memory: "512Mi" } } } } } };
    expect(() => build(tiny)).toThrow("node set hot: the JVM heap would be 256Mi (50% of 512Mi); Elasticsearch needs at least 512Mi");
  });
});
