import { Environment } from "./environment";

/** A small, single-replica platform for developers; one local or low-cost cluster. */
export const dev: Environment = {
  name: "dev",
  tier: "dev",
  clusterDomain: "dev.stratum.example.com",
  gitops: { repoURL: "https://github.com/stratum-platform/gitops.git", targetRevision: "main", basePath: "dist" },
  cloud: { provider: "aws", region: "eu-west-1" },
  ha: { nodeSpread: "soft", zoneSpread: "soft" },
  sizing: {
    services: { replicas: 1, resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "128Mi" } } },
  },
};
