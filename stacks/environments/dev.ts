import { Environment } from "./environment";

/** A small, single-replica platform for developers; one local or low-cost cluster. */
export const dev: Environment = {
  name: "dev",
  tier: "dev",
  clusterDomain: "dev.stratum.example.com",
  gitops: { repoURL: "https://github.com/stratum-platform/gitops.git", targetRevision: "main", basePath: "dist",
    automated: { prune: true, selfHeal: true }, syncWindows: [] },
  cloud: { provider: "aws", region: "eu-west-1", accountId: "111111111111" },
  ha: { nodeSpread: "soft", zoneSpread: "soft" },
  certificates: { issuer: "self-signed-ca", acmeServer: "https://acme-staging-v02.api.letsencrypt.org/directory", email: "platform-team@stratum.example.com", hostedZoneId: "" },
  network: { vpcCidr: "10.10.0.0/16", apiServer: { cidrs: ["10.10.0.0/16"], port: 443 } },
  sizing: {
    services: { replicas: 1, resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "128Mi" } } },
    gateway: { minReplicas: 1, maxReplicas: 2, targetCpuUtilization: 70, resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "128Mi" } } },
    operators: { replicas: 1, resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } } },
    mesh: {
      istiod: { minReplicas: 1, maxReplicas: 2, targetCpuUtilization: 80, resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "1", memory: "512Mi" } } },
      ingressGateway: { minReplicas: 1, maxReplicas: 2, targetCpuUtilization: 80, resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "128Mi" } } },
      proxy: { requests: { cpu: "10m", memory: "128Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
      tracingSamplingPercent: 100,
    },
    objectStorage: {
      bucketPrefix: "stratum",
      endpoint: "",
      buckets: {
        uploads: { versioning: false, retentionDays: 30, infrequentAccessAfterDays: 0, noncurrentVersionRetentionDays: 0 },
        backups: { versioning: false, retentionDays: 14, infrequentAccessAfterDays: 0, noncurrentVersionRetentionDays: 0 },
        logs: { versioning: false, retentionDays: 7, infrequentAccessAfterDays: 0, noncurrentVersionRetentionDays: 0 },
      },
    },
    postgres: {
      instances: 1,
      synchronousReplicas: 0,
      resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "512Mi" } },
      storage: "5Gi",
      walStorage: "2Gi",
      backupRetention: "7d",
      pooler: { instances: 1, readOnly: false, defaultPoolSize: 10, maxClientConnections: 200, resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "64Mi" } } },
    },
    tracing: {
      collector: { replicas: 1, resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "128Mi" } } },
      sampler: { replicas: 1, resources: { requests: { cpu: "50m", memory: "256Mi" }, limits: { cpu: "500m", memory: "256Mi" } } },
      samplingPercentage: 100,
      slowTraceThresholdMs: 500,
      jaegerStorage: "memory",
      jaeger: { replicas: 1, resources: { requests: { cpu: "50m", memory: "512Mi" }, limits: { cpu: "500m", memory: "512Mi" } } },
      retention: "3d",
    },
    logging: { fluentBit: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } }, retention: "3d" },
    redis: {
      replicas: 1,
      resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
      storage: "1Gi",
      maxmemory: "96Mi",
      sentinel: { replicas: 1, quorum: 1, resources: { requests: { cpu: "20m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } } },
    },
    elasticsearch: {
      masters: { count: 0, resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } }, storage: "2Gi" },
      hot: { count: 1, resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "2Gi" } }, storage: "10Gi" },
      warm: { count: 0, resources: { requests: { cpu: "250m", memory: "2Gi" }, limits: { cpu: "1", memory: "2Gi" } }, storage: "10Gi" },
      heapPercent: 50,
      warmAfter: "1d",
      snapshotRetention: "3d",
      kibana: { replicas: 1, resources: { requests: { cpu: "100m", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } } },
    },
    metrics: {
      prometheus: { replicas: 1, resources: { requests: { cpu: "200m", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } }, storage: "10Gi", retention: "3d" },
      alertmanager: { replicas: 1, resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { cpu: "200m", memory: "64Mi" } }, storage: "1Gi", retention: "5d" },
      grafana: { replicas: 1, resources: { requests: { cpu: "50m", memory: "256Mi" }, limits: { cpu: "500m", memory: "256Mi" } } },
    },
  },
};
