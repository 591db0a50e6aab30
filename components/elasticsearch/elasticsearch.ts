import { Construct } from "constructs";
import { Elasticsearch as ElasticsearchResource, ElasticsearchSpecVolumeClaimDeletePolicy } from "../../constructs/imports/eck-elasticsearch.k8s.elastic.co";
import { Kibana } from "../../constructs/imports/eck-kibana.k8s.elastic.co";
import * as k8s from "../../constructs/imports/k8s";
import { recommendedLabels } from "../../constructs/labels";
import { SecretKeyRef } from "../../constructs/secret-ref";
import { GraphNodeProps } from "../../constructs/service-graph";
import { PlatformComponent, PlatformContext, SyncWave } from "../component";
import { ObjectStorage } from "../object-storage";
import type { ElasticsearchTarget } from "../tracing/elasticsearch-target";
import { BootstrapJob } from "./bootstrap-job";
import { BootstrapResource } from "./bootstrap-script";
import {
  ageDays, clientRole, familyProblems, ilmPolicy, IndexFamily, indexTemplate, LifecycleSettings, MANAGED_BY, policyName, slmPolicy,
  SnapshotSettings, snapshotRepository,
} from "./lifecycle";
import { nodeSet, NodeSetSpec, nodeSetProblems, restrictedContainer, restrictedPod } from "./node-sets";
import { ECK_OPERATOR_NODE, EckOperator, NO_SIDECAR } from "./operator";

/** The Elastic Stack version of Elasticsearch and Kibana (supported by ECK 3.0.0). */
export const ELASTIC_STACK_VERSION = "8.17.4";
/** Graph id of Elasticsearch's HTTPS endpoint (agreed across components). */
export const ELASTICSEARCH_NODE = "elasticsearch";
/** Graph id of the transport port between Elasticsearch nodes. */
export const ELASTICSEARCH_TRANSPORT_NODE = "elasticsearch-transport";
/** Graph id of Kibana (agreed across components). */
export const KIBANA_NODE = "kibana";
/** Graph id of the bootstrap Job. */
export const ELASTICSEARCH_BOOTSTRAP_NODE = "elasticsearch-bootstrap";
/** The role every platform client user gets. */
export const CLIENT_ROLE = "stratum_client";

/** Props of the Elasticsearch component. */
export interface ElasticsearchProps {
  /** Namespace of Elasticsearch and Kibana. @default "elasticsearch" */
  readonly namespace?: string;
  /** Elastic Stack version. @default {@link ELASTIC_STACK_VERSION} */
  readonly version?: string;
  /**
   * Let Elasticsearch mmap its indices: faster, but the nodes need `vm.max_map_count` >= 262144, which a restricted pod
   * cannot set (the sysctl init container is privileged). @default false
   */
  readonly allowMmap?: boolean;
  /** Index families and their lifecycles. @default logs (`logs-k8s-*`, with a template) and traces (Jaeger's indices) */
  readonly families?: ReadonlyArray<IndexFamily>;
  /** Cron (with seconds) of the nightly snapshot. @default "0 30 1 * * ?" */
  readonly snapshotSchedule?: string;
  /**
   * Store entry of the HTTP certificate (`tls.crt`, `tls.key`, `ca.crt`) for `<name>-es-http.<namespace>.svc`; clients
   * get its `ca.crt` in their own namespace. @default `stratum/<env>/elasticsearch/http-tls`
   */
  readonly httpCertificateRemoteKey?: string;
}

/** Where Elasticsearch answers, for components that configure clients themselves. */
export interface ElasticsearchEndpoint {
  /** In-cluster host of the HTTPS Service. */
  readonly host: string;
  /** HTTPS port. */
  readonly port: number;
  /** Always https. */
  readonly scheme: "https";
  /** The CA certificate in Elasticsearch's namespace (clients ask `caCertificate(ns)` for a copy in theirs). */
  readonly caSecret: SecretKeyRef;
  /** The `elastic` superuser's password, created by ECK in Elasticsearch's namespace (bootstrap only). */
  readonly adminSecret: SecretKeyRef;
}

/** Log and trace index families with the retention of the logging and tracing sizing. */
export function defaultFamilies(logRetention: string, traceRetention: string): IndexFamily[] {
  return [
    { name: "logs", indexPatterns: ["logs-k8s-*"], retentionDays: ageDays(logRetention, "sizing.logging.retention"), indexTemplate: true },
    // Jaeger writes daily span and service indices and keeps its own templates (a higher-priority template would
    // replace its mappings), so the policy is attached by the template only when someone asks for it.
    { name: "traces", indexPatterns: ["*jaeger-span-*", "*jaeger-service-*", "*jaeger-dependencies-*"], retentionDays: ageDays(traceRetention, "sizing.tracing.retention"), indexTemplate: false },
  ];
}

/**
 * Elasticsearch and Kibana on ECK 3.0.0: the operator as a HelmAddon; an `Elasticsearch` with node sets per tier
 * (dedicated masters, hot and warm data nodes, from the environment), heap tied to the memory limit, PVCs, zone
 * awareness and a restricted pod; TLS with a certificate from the secret store; `Kibana`. Index lifecycle is code:
 * ILM policies (hot -> warm -> delete), index templates, the S3 snapshot repository on the object-storage backups
 * bucket and a nightly SLM policy, applied by an idempotent bootstrap Job that never deletes. Clients (logging,
 * tracing) get credentials and the CA by reference through {@link ElasticsearchComponent.target}.
 */
export class ElasticsearchComponent extends PlatformComponent {
  /** Where it answers. */
  readonly endpoint: ElasticsearchEndpoint;
  /** What logging and tracing consume (credentials and CA declared in their namespaces). */
  readonly target: ElasticsearchTarget;
  /** The node sets, in order (`master` when dedicated, `hot`, `warm` when sized). */
  readonly nodeSets: ReadonlyArray<NodeSetSpec>;
  /** Index families and their lifecycles. */
  readonly families: ReadonlyArray<IndexFamily>;
  /** Snapshot settings, when the platform has object storage. */
  readonly snapshots?: SnapshotSettings;
  /** The operator. */
  readonly operator: EckOperator;
  /** The `Elasticsearch` resource. */
  readonly resource: ElasticsearchResource;
  /** What the bootstrap applies, in order (complete once the platform is finalized). */
  readonly resources: BootstrapResource[] = [];
  /** The bootstrap Job (created when the platform is finalized). */
  bootstrap?: BootstrapJob;
  private readonly clientUsers = new Map<string, { passwordKey: SecretKeyRef }>();
  private sealed = false;
  private readonly httpTlsRemoteKey: string;

  constructor(scope: Construct, id: string, context: PlatformContext, props: ElasticsearchProps = {}) {
    super(scope, id, context, { name: "elasticsearch", syncWave: SyncWave.CUSTOM_RESOURCES });
    const env = context.environment;
    const sizing = env.sizing.elasticsearch;
    const namespace = props.namespace ?? "elasticsearch";
    const name = "elasticsearch";
    const version = props.version ?? ELASTIC_STACK_VERSION;
    const dedicatedMasters = sizing.masters.count > 0;

    const sets: NodeSetSpec[] = [];
    if (dedicatedMasters) sets.push({ name: "master", roles: ["master"], sizing: sizing.masters });
    sets.push({ name: "hot", roles: [...(dedicatedMasters ? [] : ["master"]), "data_hot", "data_content", "ingest"], sizing: sizing.hot });
    if (sizing.warm.count > 0) sets.push({ name: "warm", roles: ["data_warm"], sizing: sizing.warm });
    this.nodeSets = sets;

    const problems = nodeSetProblems(sets, sizing.heapPercent);
    if (dedicatedMasters && sizing.masters.count % 2 === 0) problems.push(`sizing.elasticsearch.masters.count must be odd so that a majority survives losing one (got ${sizing.masters.count})`);
    let warmAfterDays = 0;
    let snapshotDays = 0;
    try { warmAfterDays = ageDays(sizing.warmAfter, "sizing.elasticsearch.warmAfter"); } catch (e) { problems.push((e as Error).message); }
    try { snapshotDays = ageDays(sizing.snapshotRetention, "sizing.elasticsearch.snapshotRetention"); } catch (e) { problems.push((e as Error).message); }
    let families: IndexFamily[] = [];
    try {
      families = [...(props.families ?? defaultFamilies(env.sizing.logging.retention, env.sizing.tracing.retention))];
    } catch (e) {
      problems.push((e as Error).message);
    }
    for (const f of families) problems.push(...familyProblems(f));
    if (new Set(families.map((f) => f.name)).size !== families.length) problems.push(`index family names must be unique (got ${families.map((f) => f.name).join(", ")})`);
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);
    this.families = families;

    const operator = new EckOperator(this, "Operator", context, { replicas: env.sizing.operators.replicas, resources: env.sizing.operators.resources, managedNamespaces: [namespace] });
    this.operator = operator;
    context.ensureNamespace({ name: namespace, component: "elasticsearch" });
    const labels = recommendedLabels({ name, component: "search", version });
    const host = `${name}-es-http.${namespace}.svc.cluster.local`;

    // TLS: the HTTP certificate comes from the secret store so that clients in other namespaces can trust its CA.
    const httpTlsRemoteKey = props.httpCertificateRemoteKey ?? `stratum/${env.name}/elasticsearch/http-tls`;
    this.httpTlsRemoteKey = httpTlsRemoteKey;
    const httpTls = context.secrets.require({
      namespace, name: `${name}-http-tls`, keys: ["tls.crt", "tls.key", "ca.crt"], type: "kubernetes.io/tls", remoteKey: httpTlsRemoteKey,
      description: `HTTP certificate of Elasticsearch, valid for ${host} and ${name}-es-http.${namespace}.svc, with the CA clients verify it by`,
    });
    this.endpoint = { host, port: 9200, scheme: "https", caSecret: httpTls["ca.crt"], adminSecret: { name: `${name}-es-elastic-user`, key: "elastic" } };

    // The pods' ServiceAccount: no token; on AWS it carries the IRSA role of the snapshot bucket.
    const storage = context.find(ObjectStorage);
    let saAnnotations: Record<string, string> = {};
    const extraConfig: Record<string, unknown> = {};
    const volumes: Record<string, unknown>[] = [];
    const mounts: Record<string, unknown>[] = [];
    const secureSettings: Array<{ secretName: string; entries: Array<{ key: string; path: string }> }> = [];
    if (storage) {
      const access = storage.grant({ id: name, namespace, serviceAccount: name }, { backups: "read-write" });
      this.snapshots = {
        repository: "stratum-backups",
        bucket: access.buckets.backups as string,
        basePath: `elasticsearch/${env.name}`,
        schedule: props.snapshotSchedule ?? "0 30 1 * * ?",
        retentionDays: snapshotDays,
      };
      saAnnotations = { ...access.serviceAccountAnnotations };
      extraConfig["s3.client.default.endpoint"] = new URL(access.endpoint).host;
      extraConfig["s3.client.default.protocol"] = "https";
      if (access.credentials) {
        secureSettings.push({
          secretName: access.credentials.accessKeyId.name,
          entries: [
            { key: access.credentials.accessKeyId.key, path: "s3.client.default.access_key" },
            { key: access.credentials.secretAccessKey.key, path: "s3.client.default.secret_key" },
          ],
        });
      } else {
        // repository-s3 reads the web identity token only from its own config folder
        volumes.push({ name: "aws-iam-token", projected: { sources: [{ serviceAccountToken: { audience: "sts.amazonaws.com", expirationSeconds: 86400, path: "aws-web-identity-token-file" } }] } });
        mounts.push({ name: "aws-iam-token", mountPath: "/usr/share/elasticsearch/config/repository-s3", readOnly: true });
      }
    }
    new k8s.KubeServiceAccount(this, "ServiceAccount", {
      metadata: { name, namespace, labels, annotations: Object.keys(saAnnotations).length ? saAnnotations : undefined },
      automountServiceAccountToken: false,
    });

    const hotNodes = sizing.hot.count;
    const lifecycle: LifecycleSettings = { warmAfterDays, warmTier: sizing.warm.count > 0, shards: 1, replicas: hotNodes > 1 ? 1 : 0 };
    const zoneAwareness = env.ha.zoneSpread === "hard";
    this.resource = new ElasticsearchResource(this, "Elasticsearch", {
      metadata: {
        name, namespace, labels,
        annotations: {
          // the data outlives a pruned or deleted resource: removing a cluster is a deliberate act
          "argocd.argoproj.io/sync-options": "Prune=false",
          ...(zoneAwareness ? { "eck.k8s.elastic.co/downward-node-labels": "topology.kubernetes.io/zone" } : {}),
        },
      },
      spec: {
        version,
        volumeClaimDeletePolicy: ElasticsearchSpecVolumeClaimDeletePolicy.DELETE_ON_SCALEDOWN_ONLY,
        serviceAccountName: name,
        http: { tls: { certificate: { secretName: httpTls["tls.crt"].name } } },
        secureSettings: secureSettings.length ? secureSettings : undefined,
        updateStrategy: { changeBudget: { maxUnavailable: 1 } },
        nodeSets: sets.map((s) => nodeSet(s, {
          clusterName: name,
          heapPercent: sizing.heapPercent,
          spread: { node: env.ha.nodeSpread, zone: env.ha.zoneSpread },
          zoneAwareness,
          allowMmap: props.allowMmap ?? false,
          extraConfig,
          volumes,
          mounts,
          podAnnotations: { ...NO_SIDECAR },
          podLabels: labels,
        })),
      },
    });

    const kibanaLabels = recommendedLabels({ name: "kibana", component: "search-ui", version });
    new k8s.KubeServiceAccount(this, "KibanaServiceAccount", { metadata: { name: "kibana", namespace, labels: kibanaLabels }, automountServiceAccountToken: false });
    const kr = sizing.kibana.resources;
    new Kibana(this, "Kibana", {
      metadata: { name: "kibana", namespace, labels: kibanaLabels },
      spec: {
        version,
        count: sizing.kibana.replicas,
        elasticsearchRef: { name },
        serviceAccountName: "kibana",
        podTemplate: {
          metadata: { labels: kibanaLabels, annotations: { ...NO_SIDECAR } },
          spec: {
            automountServiceAccountToken: false,
            securityContext: restrictedPod(),
            containers: [{
              name: "kibana",
              resources: { requests: { ...kr.requests }, limits: { ...kr.limits } },
              securityContext: restrictedContainer(),
            }],
          },
        },
      },
    });

    // The service graph: HTTPS for clients, transport between nodes (a peer node: a node cannot consume itself).
    const graph = context.graph;
    const selector = { "elasticsearch.k8s.elastic.co/cluster-name": name };
    graph.addNode({
      id: ELASTICSEARCH_NODE, kind: "component", namespace, serviceAccount: name, selector, host, scope: this,
      ports: [{ name: "https", port: 9200, protocol: "tls" }],
      connection: (consumer) => this.connectionFor(consumer),
    });
    graph.addNode({ id: ELASTICSEARCH_TRANSPORT_NODE, kind: "component", namespace, serviceAccount: name, selector, scope: this, ports: [{ name: "tls-transport", port: 9300, protocol: "tls" }] });
    graph.addNode({
      id: KIBANA_NODE, kind: "component", namespace, serviceAccount: "kibana", selector: { "kibana.k8s.elastic.co/name": "kibana" },
      host: `kibana-kb-http.${namespace}.svc.cluster.local`, scope: this, ports: [{ name: "https", port: 5601, protocol: "tls" }],
    });
    graph.connect(ELASTICSEARCH_NODE, ELASTICSEARCH_TRANSPORT_NODE);
    graph.connect(KIBANA_NODE, ELASTICSEARCH_NODE);
    graph.connect(ECK_OPERATOR_NODE, ELASTICSEARCH_NODE);
    if (storage) graph.connect(ELASTICSEARCH_NODE, storage.graphNode.id);
    graph.addNode({
      id: ELASTICSEARCH_BOOTSTRAP_NODE, kind: "component", namespace, serviceAccount: ELASTICSEARCH_BOOTSTRAP_NODE,
      selector: { "app.kubernetes.io/name": ELASTICSEARCH_BOOTSTRAP_NODE }, scope: this, ports: [],
    });
    graph.connect(ELASTICSEARCH_BOOTSTRAP_NODE, ELASTICSEARCH_NODE);

    this.target = {
      graphNode: ELASTICSEARCH_NODE,
      host,
      port: 9200,
      logsIlmPolicy: policyName("logs"),
      credentials: (client) => this.credentials(client),
      caCertificate: (ns) => this.caCertificate(ns),
    };

    // Clients declare their users while components are added; the bootstrap is written once they all have.
    context.onFinalize(() => {
      this.sealed = true;
      this.resources.push({ kind: "role", name: CLIENT_ROLE, path: `/_security/role/${CLIENT_ROLE}`, body: clientRole(this.families) });
      for (const [user, u] of [...this.clientUsers.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        this.resources.push({
          kind: "user", name: user, path: `/_security/user/${user}`, passwordEnv: passwordEnv(user),
          body: { roles: [CLIENT_ROLE], full_name: `Stratum client ${user}`, metadata: { ...MANAGED_BY, secret: u.passwordKey.name } },
        });
      }
      for (const f of this.families) this.resources.push({ kind: "ilm", name: policyName(f.name), path: `/_ilm/policy/${policyName(f.name)}`, body: ilmPolicy(f, lifecycle) as never });
      for (const f of this.families.filter((x) => x.indexTemplate)) {
        this.resources.push({ kind: "index-template", name: `stratum-${f.name}`, path: `/_index_template/stratum-${f.name}`, body: indexTemplate(f, lifecycle) });
      }
      if (this.snapshots) {
        this.resources.push({ kind: "repository", name: this.snapshots.repository, path: `/_snapshot/${this.snapshots.repository}`, body: snapshotRepository(this.snapshots) });
        this.resources.push({ kind: "slm", name: "stratum-nightly", path: "/_slm/policy/stratum-nightly", body: slmPolicy(this.snapshots) });
      }
      this.bootstrap = new BootstrapJob(this, "Bootstrap", {
        name: ELASTICSEARCH_BOOTSTRAP_NODE,
        namespace,
        url: `https://${host}:9200`,
        admin: this.endpoint.adminSecret,
        ca: this.endpoint.caSecret,
        config: { waitForStatus: sizing.hot.count + sizing.warm.count > 1 ? "green" : "yellow", deadlineSeconds: 1800, maxBackoffMs: 30000, resources: this.resources },
        passwords: Object.fromEntries([...this.clientUsers.entries()].map(([user, u]) => [passwordEnv(user), u.passwordKey])),
      });
    });
  }

  /**
   * Declares a client's credentials: a Secret in the client's namespace (user name and password, from the store entry
   * `stratum/<env>/elasticsearch/users/<name>`), the same password in Elasticsearch's namespace for the bootstrap, and
   * an Elasticsearch user with the client role. Call it while components are added (before finalize).
   */
  credentials(client: { readonly namespace: string; readonly name: string; readonly keys?: { readonly username: string; readonly password: string } }) {
    if (this.sealed) throw new Error(`${this.node.path}: credentials for '${client.name}' asked for after the platform was finalized; ask while adding components`);
    const keys = client.keys ?? { username: "username", password: "password" };
    const user = client.name;
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(user)) throw new Error(`${this.node.path}: client name ${JSON.stringify(user)} must be a DNS label (it names the Elasticsearch user)`);
    const remoteKey = `stratum/${this.context.environment.name}/elasticsearch/users/${user}`;
    const refs = this.context.secrets.require({
      namespace: client.namespace, name: client.name, keys: [keys.username, keys.password], remoteKey,
      description: `Elasticsearch user ${user} (role ${CLIENT_ROLE})`,
    });
    const own = this.context.secrets.require({
      namespace: this.resource.metadata.namespace as string, name: `es-user-${user}`.slice(0, 63), keys: [keys.password], remoteKey,
      description: `Password of the Elasticsearch user ${user}, for the bootstrap Job that creates it`,
    });
    this.clientUsers.set(user, { passwordKey: own[keys.password] });
    return { secretName: client.name, username: refs[keys.username], password: refs[keys.password] };
  }

  /** Declares a copy of the HTTP CA certificate (`ca.crt`) in a client's namespace and returns it. */
  caCertificate(namespace: string): SecretKeyRef {
    return this.context.secrets.require({
      namespace, name: "elasticsearch-ca", keys: ["ca.crt"], remoteKey: this.httpTlsRemoteKey,
      description: "CA that signed Elasticsearch's HTTP certificate",
    })["ca.crt"];
  }

  /** A graph consumer gets the URL and the CA by reference; credentials come from `credentials()`. */
  private connectionFor(consumer: GraphNodeProps) {
    if (!consumer.namespace) throw new Error(`${this.node.path}: consumer '${consumer.id}' has no namespace`);
    const ca = this.caCertificate(consumer.namespace);
    return { ELASTICSEARCH_URL: `https://${this.endpoint.host}:${this.endpoint.port}`, ELASTICSEARCH_CA: { secret: ca.name, key: ca.key } };
  }
}

function passwordEnv(user: string): string {
  return `ES_PASSWORD_${user.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}
