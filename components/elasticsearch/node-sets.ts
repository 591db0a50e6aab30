import { ElasticsearchSpecNodeSets, ElasticsearchSpecNodeSetsVolumeClaimTemplatesSpecResourcesRequests } from "../../constructs/imports/eck-elasticsearch.k8s.elastic.co";
import type { ElasticsearchNodeSetSizing, SpreadMode } from "../../stacks/environments/environment";
import { quantityBytes } from "../../constructs/quantity";

/** uid and gid of the `elasticsearch` and `kibana` users of Elastic's images. */
export const ELASTIC_UID = 1000;
/** The node label ECK copies onto pods (as an annotation) for zone awareness. */
export const ZONE_LABEL = "topology.kubernetes.io/zone";

/** One ECK node set, as Stratum describes it. */
export interface NodeSetSpec {
  /** Node set name (`master`, `hot`, `warm`). */
  readonly name: string;
  /** Elasticsearch node roles. */
  readonly roles: ReadonlyArray<string>;
  /** Count, resources and storage. */
  readonly sizing: ElasticsearchNodeSetSizing;
}

/** What every node set shares. */
export interface NodeSetContext {
  /** Elasticsearch resource name (`elasticsearch`): pods are `<name>-es-<set>-N`. */
  readonly clusterName: string;
  /** JVM heap as a percentage of the memory limit. */
  readonly heapPercent: number;
  /** Spread of pods. */
  readonly spread: { readonly node: SpreadMode; readonly zone: SpreadMode };
  /** Allocation awareness by zone (ECK copies the node's zone label to the pod). */
  readonly zoneAwareness: boolean;
  /** Allow mmap (needs `vm.max_map_count` >= 262144 on the nodes, set outside the restricted pod). */
  readonly allowMmap: boolean;
  /** Extra `elasticsearch.yml` settings of every node (S3 client endpoint). */
  readonly extraConfig: Readonly<Record<string, unknown>>;
  /** Extra pod volumes and main-container mounts (the IRSA token for the S3 repository). */
  readonly volumes: ReadonlyArray<Record<string, unknown>>;
  readonly mounts: ReadonlyArray<Record<string, unknown>>;
  /** Pod annotations. */
  readonly podAnnotations: Readonly<Record<string, string>>;
  /** Pod labels. */
  readonly podLabels: Readonly<Record<string, string>>;
}

/** The JVM heap in MiB for a memory limit: `heapPercent` of it, rounded down. */
export function heapMiB(memoryLimit: string, heapPercent: number): number {
  return Math.floor((quantityBytes(memoryLimit) * heapPercent) / 100 / 2 ** 20);
}

/** The restricted container security context, written out so that the resource says what it runs with. */
export function restrictedContainer(): Record<string, unknown> {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** The restricted pod security context for Elastic's images. */
export function restrictedPod(): Record<string, unknown> {
  return { runAsNonRoot: true, runAsUser: ELASTIC_UID, fsGroup: ELASTIC_UID, seccompProfile: { type: "RuntimeDefault" } };
}

/** Problems with the node sets (empty when valid). */
export function nodeSetProblems(sets: ReadonlyArray<NodeSetSpec>, heapPercent: number): string[] {
  const problems: string[] = [];
  for (const s of sets) {
    if (!Number.isInteger(s.sizing.count) || s.sizing.count < 1) problems.push(`node set ${s.name}: count must be an integer >= 1 (got ${s.sizing.count})`);
    let heap = 0;
    try {
      heap = heapMiB(s.sizing.resources.limits.memory, heapPercent);
    } catch (e) {
      problems.push(`node set ${s.name}: ${(e as Error).message}`);
      continue;
    }
    if (heap < 512) problems.push(`node set ${s.name}: the JVM heap would be ${heap}Mi (${heapPercent}% of ${s.sizing.resources.limits.memory}); Elasticsearch needs at least 512Mi`);
    if (s.sizing.resources.requests.memory !== s.sizing.resources.limits.memory) {
      problems.push(`node set ${s.name}: memory request (${s.sizing.resources.requests.memory}) must equal the limit (${s.sizing.resources.limits.memory}); the heap is sized from it and the page cache needs the rest`);
    }
  }
  if (!Number.isInteger(heapPercent) || heapPercent < 10 || heapPercent > 75) problems.push(`heapPercent must be an integer 10-75 (got ${heapPercent})`);
  return problems;
}

/** The `nodeSets` entry of one set: roles and settings, a restricted pod, heap from the memory limit, its PVC. */
export function nodeSet(s: NodeSetSpec, c: NodeSetContext): ElasticsearchSpecNodeSets {
  const heap = heapMiB(s.sizing.resources.limits.memory, c.heapPercent);
  const config: Record<string, unknown> = { "node.roles": [...s.roles], "node.store.allow_mmap": c.allowMmap, ...c.extraConfig };
  const env: Record<string, unknown>[] = [{ name: "ES_JAVA_OPTS", value: `-Xms${heap}m -Xmx${heap}m` }];
  if (c.zoneAwareness) {
    config["node.attr.zone"] = "${ZONE}";
    config["cluster.routing.allocation.awareness.attributes"] = "k8s_node_name,zone";
    env.push({ name: "ZONE", valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${ZONE_LABEL}']` } } });
  }
  const selector = { matchLabels: { "elasticsearch.k8s.elastic.co/cluster-name": c.clusterName, "elasticsearch.k8s.elastic.co/statefulset-name": `${c.clusterName}-es-${s.name}` } };
  const when = (m: SpreadMode) => (m === "hard" ? "DoNotSchedule" : "ScheduleAnyway");
  const r = s.sizing.resources;
  return {
    name: s.name,
    count: s.sizing.count,
    config,
    podTemplate: {
      metadata: { labels: { ...c.podLabels, "stratum.dev/node-set": s.name }, annotations: { ...c.podAnnotations } },
      spec: {
        automountServiceAccountToken: false,
        securityContext: restrictedPod(),
        topologySpreadConstraints: [
          { maxSkew: 1, topologyKey: ZONE_LABEL, whenUnsatisfiable: when(c.spread.zone), labelSelector: selector },
          { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: when(c.spread.node), labelSelector: selector },
        ],
        containers: [
          {
            name: "elasticsearch",
            resources: { requests: { cpu: r.requests.cpu, memory: r.requests.memory }, limits: { cpu: r.limits.cpu, memory: r.limits.memory } },
            env,
            securityContext: restrictedContainer(),
            volumeMounts: c.mounts.length ? [...c.mounts] : undefined,
          },
        ],
        volumes: c.volumes.length ? [...c.volumes] : undefined,
      },
    },
    volumeClaimTemplates: [
      {
        metadata: { name: "elasticsearch-data" },
        spec: {
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: ElasticsearchSpecNodeSetsVolumeClaimTemplatesSpecResourcesRequests.fromString(s.sizing.storage) } },
        },
      },
    ],
  };
}
