import { Environment } from "./environment";

/** Highly available across three zones; the GitOps revision is a release branch, promoted from staging. */
export const prod: Environment = {
  name: "prod",
  tier: "prod",
  clusterDomain: "prod.stratum.example.com",
  gitops: { repoURL: "https://github.com/stratum-platform/gitops.git", targetRevision: "release", basePath: "dist" },
  cloud: { provider: "aws", region: "eu-west-1", accountId: "333333333333" },
  ha: { nodeSpread: "hard", zoneSpread: "hard" },
  certificates: { issuer: "acme-dns01", acmeServer: "https://acme-v02.api.letsencrypt.org/directory", email: "platform-team@stratum.example.com", hostedZoneId: "Z0PRODSTRATUM" },
  network: { vpcCidr: "10.30.0.0/16", apiServer: { cidrs: ["10.30.0.0/16"], port: 443 } },
  sizing: {
    services: { replicas: 3, resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "2", memory: "512Mi" } } },
  },
};
