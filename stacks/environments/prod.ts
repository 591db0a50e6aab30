import { Environment } from "./environment";

/** Highly available across three zones; the GitOps revision is a release branch, promoted from staging. */
export const prod: Environment = {
  name: "prod",
  tier: "prod",
  clusterDomain: "prod.stratum.example.com",
  gitops: { repoURL: "https://github.com/stratum-platform/gitops.git", targetRevision: "release", basePath: "dist" },
  cloud: { provider: "aws", region: "eu-west-1" },
  ha: { nodeSpread: "hard", zoneSpread: "hard" },
  sizing: {
    services: { replicas: 3, resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "2", memory: "512Mi" } } },
  },
};
