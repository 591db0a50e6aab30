import { TIERS } from "./environment";

/** A JSON schema node (the subset this module builds). */
export type JsonSchema = Record<string, unknown>;

const QUANTITY_CPU = "^([0-9]+m|[0-9]+(\\.[0-9]+)?)$";
const QUANTITY_BYTES = "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|K|M|G|T|P)?$";
const DURATION = "^[0-9]+(s|m|h|d|w|y)$";
const CIDR = "^([0-9]{1,3}\\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$";
const DNS_NAME = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/** A closed object: every property required, no unknown keys. */
export function object(properties: Record<string, JsonSchema>, description?: string): JsonSchema {
  return { type: "object", description, properties, required: Object.keys(properties), additionalProperties: false };
}
const str = (pattern: string, description: string): JsonSchema => ({ type: "string", pattern, description });
const oneOf = (values: ReadonlyArray<string>): JsonSchema => ({ type: "string", enum: [...values] });
const integer = (minimum: number, maximum: number): JsonSchema => ({ type: "integer", minimum, maximum });

/** Schema fragments for the shapes components share, so that each component's sizing is described once. */
export const schemas = {
  cpu: str(QUANTITY_CPU, "a CPU quantity such as 250m or 2"),
  memory: str(QUANTITY_BYTES, "a memory quantity such as 256Mi or 2Gi"),
  storage: str(QUANTITY_BYTES, "a storage quantity such as 20Gi"),
  duration: str(DURATION, "a duration such as 30s, 15m, 7d"),
  replicas: integer(1, 100),
  spread: oneOf(["hard", "soft"]),
  get resources(): JsonSchema {
    const q = object({ cpu: this.cpu, memory: this.memory });
    return object({ requests: q, limits: q });
  },
  get workload(): JsonSchema {
    return object({ replicas: this.replicas, resources: this.resources });
  },
  get stateful(): JsonSchema {
    return object({ replicas: this.replicas, resources: this.resources, storage: this.storage, retention: this.duration });
  },
};

/** The sizing entries, one per component; components extend this table as they are added. */
export const sizingSchema: Record<string, JsonSchema> = {
  services: schemas.workload,
  get tasks(): JsonSchema {
    return object({
      replicas: schemas.replicas,
      maxReplicas: schemas.replicas,
      resources: schemas.resources,
      workerConcurrency: { type: "integer", minimum: 1, maximum: 256 },
      maxUploadBytes: { type: "integer", minimum: 1024, maximum: 5 * 1024 * 1024 * 1024 * 1024 },
    });
  },
  get gateway(): JsonSchema {
    return object({ minReplicas: schemas.replicas, maxReplicas: schemas.replicas, targetCpuUtilization: { type: "integer", minimum: 10, maximum: 95 }, resources: schemas.resources });
  },
  operators: schemas.workload,
  get delivery(): JsonSchema {
    return object({
      canarySteps: { type: "array", minItems: 1, items: object({ weight: integer(1, 100), pause: schemas.duration }) },
      analysisInterval: schemas.duration,
      failureLimit: integer(0, 10),
      controller: schemas.workload,
    });
  },
  get mesh(): JsonSchema {
    const autoscaled = object({ minReplicas: schemas.replicas, maxReplicas: schemas.replicas, targetCpuUtilization: { type: "integer", minimum: 10, maximum: 100 }, resources: schemas.resources });
    return object({ istiod: autoscaled, ingressGateway: autoscaled, proxy: schemas.resources, tracingSamplingPercent: { type: "number", minimum: 0, maximum: 100 } });
  },
  get objectStorage(): JsonSchema {
    const days = { type: "integer", minimum: 0, maximum: 36500 };
    const lifecycle = object({ versioning: { type: "boolean" }, retentionDays: days, infrequentAccessAfterDays: days, noncurrentVersionRetentionDays: days });
    return object({
      bucketPrefix: { type: "string", pattern: "^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", description: "a short lower-case prefix of bucket names" },
      endpoint: { type: "string", pattern: "^(https?://[^\\s/]+)?$", description: "an S3 endpoint URL, or empty for AWS" },
      buckets: object({ uploads: lifecycle, backups: lifecycle, logs: lifecycle }),
    });
  },
  get postgres(): JsonSchema {
    const count = (min: number, max: number): JsonSchema => ({ type: "integer", minimum: min, maximum: max });
    return object({
      instances: count(1, 9),
      synchronousReplicas: count(0, 8),
      resources: schemas.resources,
      storage: schemas.storage,
      walStorage: schemas.storage,
      backupRetention: { type: "string", pattern: "^[1-9][0-9]*[dw]$", description: "a retention such as 7d or 4w" },
      pooler: object({
        instances: count(1, 20),
        readOnly: { type: "boolean" },
        defaultPoolSize: count(1, 1000),
        maxClientConnections: count(1, 100000),
        resources: schemas.resources,
      }),
    });
  },
  get tracing(): JsonSchema {
    const days = { type: "string", pattern: "^[1-9][0-9]*[dw]$", description: "a retention such as 7d or 2w" };
    return object({
      collector: schemas.workload,
      sampler: schemas.workload,
      samplingPercentage: { type: "number", minimum: 0, maximum: 100, description: "a percentage of ordinary traces kept" },
      slowTraceThresholdMs: { type: "integer", minimum: 1, maximum: 600000 },
      jaegerStorage: { type: "string", enum: ["memory", "elasticsearch"] },
      jaeger: schemas.workload,
      retention: days,
    });
  },
  get logging(): JsonSchema {
    return object({
      fluentBit: schemas.resources,
      retention: { type: "string", pattern: "^[1-9][0-9]*[dw]$", description: "a retention such as 14d or 4w" },
    });
  },
  get redis(): JsonSchema {
    return object({
      replicas: integer(1, 9),
      resources: schemas.resources,
      storage: schemas.storage,
      maxmemory: schemas.memory,
      sentinel: object({ replicas: integer(1, 9), quorum: integer(1, 9), resources: schemas.resources }),
    });
  },
  get elasticsearch(): JsonSchema {
    const nodeSet = object({ count: integer(0, 50), resources: schemas.resources, storage: schemas.storage });
    const days = { type: "string", pattern: "^[1-9][0-9]*[dh]$", description: "an age such as 2d or 12h" };
    return object({
      masters: nodeSet,
      hot: { ...nodeSet, properties: { ...(nodeSet.properties as object), count: integer(1, 50) } },
      warm: nodeSet,
      heapPercent: integer(10, 75),
      warmAfter: days,
      snapshotRetention: days,
      kibana: schemas.workload,
    });
  },
  get metrics(): JsonSchema {
    return object({ prometheus: schemas.stateful, alertmanager: schemas.stateful, grafana: schemas.workload });
  },
  get events(): JsonSchema {
    const list = (pattern: string, description: string) => ({ type: "array", minItems: 1, items: { type: "string", pattern, description } });
    return object({
      controlPlane: object({ ha: { type: "boolean" }, resources: schemas.resources }),
      sidecar: schemas.resources,
      processor: object({ replicas: schemas.replicas, maxReplicas: schemas.replicas, resources: schemas.resources }),
      pubsub: {
        oneOf: [
          object({ kind: { const: "redis-streams" }, maxLenApprox: { type: "integer", minimum: 1000, maximum: 100000000 } }),
          object({
            kind: { const: "kafka" },
            brokers: list("^[a-z0-9.-]+:[0-9]{1,5}$", "host:port"),
            cidrs: list("^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$", "an IPv4 CIDR"),
            credentialsRemoteKey: { type: "string", minLength: 1 },
          }),
        ],
      },
    });
  },
};

/** JSON schema of a complete Environment. */
export function environmentSchema(): JsonSchema {
  return object({
    name: str("^[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$", "a short DNS label"),
    tier: oneOf(TIERS),
    clusterDomain: str(DNS_NAME, "a DNS domain"),
    gitops: object({
      repoURL: { type: "string", pattern: "^(https://|ssh://|git@)\\S+$" },
      targetRevision: { type: "string", minLength: 1 },
      basePath: { type: "string", pattern: "^[A-Za-z0-9._/-]+$" },
      automated: object({ prune: { type: "boolean" }, selfHeal: { type: "boolean" } }),
      syncWindows: {
        type: "array",
        items: object({
          kind: oneOf(["allow", "deny"]),
          schedule: str("^(\\S+\\s+){4}\\S+$", "a five-field cron schedule such as 0 8 * * 1-4"),
          duration: str("^[0-9]+(m|h)$", "a duration in minutes or hours such as 9h"),
          timeZone: str("^[A-Za-z_]+(/[A-Za-z_+-]+)*$", "an IANA time zone such as Europe/Berlin"),
          manualSync: { type: "boolean" },
        }),
      },
    }),
    cloud: object({ provider: oneOf(["aws", "local"]), region: str("^[a-z]{2}(-[a-z]+)+-[0-9]$", "a region such as eu-west-1"), accountId: str("^[0-9]{12}$", "a 12-digit AWS account id") }),
    ha: object({ nodeSpread: schemas.spread, zoneSpread: schemas.spread }),
    sizing: object(sizingSchema),
    certificates: object({
      issuer: oneOf(["acme-dns01", "self-signed-ca"]),
      acmeServer: { type: "string", pattern: "^https://\\S+$" },
      email: str("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", "an e-mail address"),
      hostedZoneId: str("^(Z[A-Z0-9]{1,31})?$", "a Route 53 hosted zone id such as Z0123456789ABC, or empty"),
    }),
    network: object({
      vpcCidr: str(CIDR, "an IPv4 CIDR such as 10.0.0.0/16"),
      apiServer: object({ cidrs: { type: "array", minItems: 1, items: str(CIDR, "an IPv4 CIDR such as 10.0.0.0/16") }, port: integer(1, 65535) }),
    }),
  });
}

/** The same schema with nothing required: the shape of an override. Unknown keys stay errors. */
export function partial(schema: JsonSchema): JsonSchema {
  const copy: JsonSchema = { ...schema };
  delete copy.required;
  if (schema.properties) {
    copy.properties = Object.fromEntries(
      Object.entries(schema.properties as Record<string, JsonSchema>).map(([k, v]) => [k, partial(v)]),
    );
  }
  return copy;
}

/** Schema of `stratum.config.yaml`: overrides per environment name. */
export function configFileSchema(environmentNames: ReadonlyArray<string>): JsonSchema {
  const override = partial(environmentSchema());
  delete (override.properties as Record<string, JsonSchema>).name;
  return {
    type: "object",
    additionalProperties: false,
    properties: {
      environments: {
        type: "object",
        additionalProperties: false,
        properties: Object.fromEntries(environmentNames.map((n) => [n, override])),
      },
    },
  };
}
