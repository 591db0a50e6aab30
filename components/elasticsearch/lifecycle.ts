/** The marker Stratum writes into what it creates in Elasticsearch; anything without it is left alone. */
export const MANAGED_BY = { managed_by: "stratum" } as const;

/** A family of indices that share a lifecycle (logs, traces). */
export interface IndexFamily {
  /** Family name: names its ILM policy (`stratum-<name>`) and index template. */
  readonly name: string;
  /** Index patterns of the family, e.g. `logs-k8s-*`. */
  readonly indexPatterns: ReadonlyArray<string>;
  /** Days indices are kept (from their creation, or their rollover when `rollover` is set). */
  readonly retentionDays: number;
  /**
   * Write an index template that attaches the policy, shards and replicas. Off for families whose writer manages its
   * own templates (Jaeger): a composable template of higher priority would replace the writer's mappings.
   */
  readonly indexTemplate: boolean;
  /** Roll over by age and size (for write aliases and data streams); daily indices need none. @default none */
  readonly rollover?: { readonly maxAge: string; readonly maxPrimaryShardSize: string };
}

/** What every family's lifecycle depends on in the cluster. */
export interface LifecycleSettings {
  /** Days after which indices move to the warm tier; ignored without warm nodes. */
  readonly warmAfterDays: number;
  /** True when the cluster has warm data nodes. */
  readonly warmTier: boolean;
  /** Primary shards per index. */
  readonly shards: number;
  /** Replicas per shard (0 on a single data node, where a replica could never be placed). */
  readonly replicas: number;
}

/** An ILM policy body (`PUT _ilm/policy/<name>`). */
export interface IlmPolicy {
  readonly policy: {
    readonly _meta: Record<string, string>;
    readonly phases: Record<string, { readonly min_age: string; readonly actions: Record<string, unknown> }>;
  };
}

/** Days in an age such as `3d`, `2w`, or hours `12h` (rounded up to whole days). */
export function ageDays(age: string, what: string): number {
  const m = /^([1-9][0-9]*)([hdw])$/.exec(age);
  if (!m) throw new Error(`${what} must be an age such as 12h, 3d or 2w (got ${JSON.stringify(age)})`);
  const n = Number(m[1]);
  return m[2] === "w" ? n * 7 : m[2] === "h" ? Math.ceil(n / 24) : n;
}

/** Problems with a family (empty when valid). */
export function familyProblems(f: IndexFamily): string[] {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9-]*$/.test(f.name)) problems.push(`index family name ${JSON.stringify(f.name)} must be lower-case letters, digits and dashes`);
  if (!Number.isInteger(f.retentionDays) || f.retentionDays < 1) problems.push(`index family ${f.name}: retentionDays must be an integer >= 1 (got ${f.retentionDays})`);
  if (f.indexPatterns.length === 0) problems.push(`index family ${f.name}: indexPatterns must not be empty`);
  for (const p of f.indexPatterns) {
    if (!/^[a-z0-9*][a-z0-9*._-]*$/.test(p) || p === "*") problems.push(`index family ${f.name}: pattern ${JSON.stringify(p)} must be a lower-case index pattern narrower than *`);
  }
  return problems;
}

/** The policy name of a family. */
export function policyName(family: string): string {
  return `stratum-${family}`;
}

/**
 * Hot -> warm -> delete: hot indices (rolled over when the family asks for it) take the writes; after `warmAfterDays`
 * they move to the warm tier (force-merged, lower recovery priority); after the family's retention they are deleted.
 * Without warm nodes, or when the retention ends before the warm age, the warm phase is left out.
 */
export function ilmPolicy(f: IndexFamily, s: LifecycleSettings): IlmPolicy {
  const hotActions: Record<string, unknown> = { set_priority: { priority: 100 } };
  if (f.rollover) hotActions.rollover = { max_age: f.rollover.maxAge, max_primary_shard_size: f.rollover.maxPrimaryShardSize };
  const phases: Record<string, { min_age: string; actions: Record<string, unknown> }> = { hot: { min_age: "0ms", actions: hotActions } };
  if (s.warmTier && s.warmAfterDays < f.retentionDays) {
    phases.warm = {
      min_age: `${s.warmAfterDays}d`,
      actions: { set_priority: { priority: 50 }, forcemerge: { max_num_segments: 1 }, allocate: { number_of_replicas: s.replicas } },
    };
  }
  phases.delete = { min_age: `${f.retentionDays}d`, actions: { delete: { delete_searchable_snapshot: true } } };
  return { policy: { _meta: { ...MANAGED_BY, family: f.name }, phases } };
}

/** The composable index template of a family (`PUT _index_template/<name>`). */
export function indexTemplate(f: IndexFamily, s: LifecycleSettings): Record<string, unknown> {
  return {
    index_patterns: [...f.indexPatterns],
    // above the built-in logs-*-* / metrics-*-* templates (priority 100), which would turn these into data streams
    priority: 200,
    _meta: { ...MANAGED_BY, family: f.name },
    template: {
      settings: {
        "index.lifecycle.name": policyName(f.name),
        "index.number_of_shards": s.shards,
        "index.number_of_replicas": s.replicas,
        "index.routing.allocation.include._tier_preference": "data_hot",
      },
    },
  };
}

/** Where snapshots go. */
export interface SnapshotSettings {
  /** Repository name. */
  readonly repository: string;
  /** Bucket. */
  readonly bucket: string;
  /** Folder in the bucket. */
  readonly basePath: string;
  /** Cron (Elasticsearch's, with seconds) of the nightly snapshot. */
  readonly schedule: string;
  /** Days snapshots are kept. */
  readonly retentionDays: number;
}

/** The S3 snapshot repository (`PUT _snapshot/<name>`). */
export function snapshotRepository(s: SnapshotSettings): Record<string, unknown> {
  return { type: "s3", settings: { bucket: s.bucket, base_path: s.basePath, client: "default", server_side_encryption: true } };
}

/** The snapshot lifecycle policy (`PUT _slm/policy/<name>`): nightly, every index and the cluster state, kept `retentionDays`. */
export function slmPolicy(s: SnapshotSettings): Record<string, unknown> {
  return {
    name: "<stratum-snap-{now/d}>",
    schedule: s.schedule,
    repository: s.repository,
    config: { indices: ["*"], include_global_state: true, ignore_unavailable: true },
    retention: { expire_after: `${s.retentionDays}d`, min_count: 3, max_count: 100 },
  };
}

/** A role for the platform's clients (log shippers, span stores): write and read their families, nothing else. */
export function clientRole(families: ReadonlyArray<IndexFamily>): Record<string, unknown> {
  return {
    cluster: ["monitor", "manage_index_templates"],
    indices: [
      {
        names: [...new Set(families.flatMap((f) => f.indexPatterns))].sort(),
        privileges: ["create_index", "create_doc", "index", "read", "view_index_metadata", "manage"],
      },
    ],
    metadata: { ...MANAGED_BY },
  };
}
