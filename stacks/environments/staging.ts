import { Environment } from "./environment";

/** Production-shaped but smaller: two replicas, the same topology, shorter retention. */
export const staging: Environment = {
  name: "staging",
  tier: "staging",
  clusterDomain: "staging.stratum.example.com",
  gitops: { repoURL: "https://github.com/stratum-platform/gitops.git", targetRevision: "main", basePath: "dist",
    automated: { prune: true, selfHeal: true }, syncWindows: [] },
  cloud: { provider: "aws", region: "eu-west-1", accountId: "222222222222" },
  ha: { nodeSpread: "hard", zoneSpread: "soft" },
  certificates: { issuer: "acme-dns01", acmeServer: "https://acme-staging-v02.api.letsencrypt.org/directory", email: "platform-team@stratum.example.com", hostedZoneId: "Z0STAGINGSTRATUM" },
  network: { vpcCidr: "10.20.0.0/16", apiServer: { cidrs: ["10.20.0.0/16"], port: 443 } },
  sizing: {
    services: { replicas: 2, resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "256Mi" } } },
    gateway: { minReplicas: 2, maxReplicas: 4, targetCpuUtilization: 70, resources: { requests: { cpu: "100m", memory: "192Mi" }, limits: { cpu: "1", memory: "192Mi" } } },
    operators: { replicas: 1, resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } } },
    mesh: {
      istiod: { minReplicas: 2, maxReplicas: 3, targetCpuUtilization: 75, resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } } },
      ingressGateway: { minReplicas: 2, maxReplicas: 4, targetCpuUtilization: 75, resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "256Mi" } } },
      proxy: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "1", memory: "128Mi" } },
      tracingSamplingPercent: 10,
    },
    objectStorage: {
      bucketPrefix: "stratum",
      endpoint: "",
      buckets: {
        uploads: { versioning: true, retentionDays: 0, infrequentAccessAfterDays: 30, noncurrentVersionRetentionDays: 7 },
        backups: { versioning: true, retentionDays: 30, infrequentAccessAfterDays: 0, noncurrentVersionRetentionDays: 7 },
        logs: { versioning: false, retentionDays: 30, infrequentAccessAfterDays: 0, noncurrentVersionRetentionDays: 0 },
      },
    },
    postgres: {
      instances: 2,
      synchronousReplicas: 0,
      resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "2Gi" } },
      storage: "20Gi",
      walStorage: "5Gi",
      backupRetention: "14d",
      pooler: { instances: 2, readOnly: false, defaultPoolSize: 10, maxClientConnections: 500, resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "128Mi" } } },
    },
    tracing: {
      collector: { replicas: 2, resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "256Mi" } } },
      sampler: { replicas: 2, resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "1", memory: "512Mi" } } },
      samplingPercentage: 25,
      slowTraceThresholdMs: 1000,
      jaegerStorage: "elasticsearch",
      jaeger: { replicas: 2, resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "256Mi" } } },
      retention: "7d",
    },
    logging: { fluentBit: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } }, retention: "7d" },
    redis: {
      replicas: 2,
      resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "1", memory: "512Mi" } },
      storage: "4Gi",
      maxmemory: "384Mi",
      sentinel: { replicas: 3, quorum: 2, resources: { requests: { cpu: "20m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } } },
    },
    elasticsearch: {
      masters: { count: 0, resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "1", memory: "2Gi" } }, storage: "5Gi" },
      hot: { count: 2, resources: { requests: { cpu: "1", memory: "4Gi" }, limits: { cpu: "2", memory: "4Gi" } }, storage: "50Gi" },
      warm: { count: 1, resources: { requests: { cpu: "500m", memory: "4Gi" }, limits: { cpu: "2", memory: "4Gi" } }, storage: "100Gi" },
      heapPercent: 50,
      warmAfter: "2d",
      snapshotRetention: "7d",
      kibana: { replicas: 1, resources: { requests: { cpu: "200m", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } } },
    },
    metrics: {
      prometheus: { replicas: 2, resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "2Gi" } }, storage: "50Gi", retention: "7d" },
      alertmanager: { replicas: 2, resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "128Mi" } }, storage: "2Gi", retention: "5d" },
      grafana: { replicas: 1, resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "1", memory: "512Mi" } } },
    },
  },
};
