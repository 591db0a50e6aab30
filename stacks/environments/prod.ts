import { Environment } from "./environment";

/** Highly available across three zones; the GitOps revision is a release branch, promoted from staging. */
export const prod: Environment = {
  name: "prod",
  tier: "prod",
  clusterDomain: "prod.stratum.example.com",
  gitops: { repoURL: "https://github.com/stratum-platform/gitops.git", targetRevision: "release", basePath: "dist",
    automated: { prune: false, selfHeal: true }, syncWindows: [{ kind: "allow", schedule: "0 8 * * 1-4", duration: "9h", timeZone: "Europe/Berlin", manualSync: true }] },
  cloud: { provider: "aws", region: "eu-west-1", accountId: "333333333333" },
  ha: { nodeSpread: "hard", zoneSpread: "hard" },
  certificates: { issuer: "acme-dns01", acmeServer: "https://acme-v02.api.letsencrypt.org/directory", email: "platform-team@stratum.example.com", hostedZoneId: "Z0PRODSTRATUM" },
  network: { vpcCidr: "10.30.0.0/16", apiServer: { cidrs: ["10.30.0.0/16"], port: 443 } },
  sizing: {
    services: { replicas: 3, resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "2", memory: "512Mi" } } },
    gateway: { minReplicas: 3, maxReplicas: 12, targetCpuUtilization: 65, resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "2", memory: "256Mi" } } },
    operators: { replicas: 2, resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } } },
    mesh: {
      istiod: { minReplicas: 3, maxReplicas: 5, targetCpuUtilization: 70, resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "2Gi" } } },
      ingressGateway: { minReplicas: 3, maxReplicas: 10, targetCpuUtilization: 70, resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "512Mi" } } },
      proxy: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "2", memory: "256Mi" } },
      tracingSamplingPercent: 1,
    },
    objectStorage: {
      bucketPrefix: "stratum",
      endpoint: "",
      buckets: {
        uploads: { versioning: true, retentionDays: 0, infrequentAccessAfterDays: 30, noncurrentVersionRetentionDays: 30 },
        backups: { versioning: true, retentionDays: 60, infrequentAccessAfterDays: 30, noncurrentVersionRetentionDays: 30 },
        logs: { versioning: false, retentionDays: 90, infrequentAccessAfterDays: 30, noncurrentVersionRetentionDays: 0 },
      },
    },
    postgres: {
      instances: 3,
      synchronousReplicas: 1,
      resources: { requests: { cpu: "2", memory: "8Gi" }, limits: { cpu: "4", memory: "8Gi" } },
      storage: "100Gi",
      walStorage: "20Gi",
      backupRetention: "30d",
      pooler: { instances: 3, readOnly: true, defaultPoolSize: 25, maxClientConnections: 2000, resources: { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "1", memory: "256Mi" } } },
    },
    tracing: {
      collector: { replicas: 3, resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "2", memory: "512Mi" } } },
      sampler: { replicas: 3, resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "2", memory: "1Gi" } } },
      samplingPercentage: 10,
      slowTraceThresholdMs: 1000,
      jaegerStorage: "elasticsearch",
      jaeger: { replicas: 3, resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "2", memory: "512Mi" } } },
      retention: "14d",
    },
    logging: { fluentBit: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } }, retention: "30d" },
    redis: {
      replicas: 3,
      resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "2Gi" } },
      storage: "16Gi",
      maxmemory: "1536Mi",
      sentinel: { replicas: 3, quorum: 2, resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "64Mi" } } },
    },
    elasticsearch: {
      masters: { count: 3, resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "1", memory: "2Gi" } }, storage: "10Gi" },
      hot: { count: 3, resources: { requests: { cpu: "2", memory: "8Gi" }, limits: { cpu: "4", memory: "8Gi" } }, storage: "200Gi" },
      warm: { count: 2, resources: { requests: { cpu: "1", memory: "8Gi" }, limits: { cpu: "2", memory: "8Gi" } }, storage: "500Gi" },
      heapPercent: 50,
      warmAfter: "3d",
      snapshotRetention: "30d",
      kibana: { replicas: 2, resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } } },
    },
    metrics: {
      prometheus: { replicas: 2, resources: { requests: { cpu: "1", memory: "8Gi" }, limits: { cpu: "4", memory: "8Gi" } }, storage: "200Gi", retention: "30d" },
      alertmanager: { replicas: 3, resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "256Mi" } }, storage: "5Gi", retention: "10d" },
      grafana: { replicas: 1, resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "2", memory: "1Gi" } } },
    },
  },
};
