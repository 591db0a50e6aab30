import { Environment } from "./environment";

/** Production-shaped but smaller: two replicas, the same topology, shorter retention. */
export const staging: Environment = {
  name: "staging",
  tier: "staging",
  clusterDomain: "staging.stratum.example.com",
  gitops: { repoURL: "https://github.com/stratum-platform/gitops.git", targetRevision: "main", basePath: "dist" },
  cloud: { provider: "aws", region: "eu-west-1" },
  ha: { nodeSpread: "hard", zoneSpread: "soft" },
  sizing: {
    services: { replicas: 2, resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "256Mi" } } },
  },
};
