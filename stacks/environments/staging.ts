import { Environment } from "./environment";

/** Production-shaped but smaller: two replicas, the same topology, shorter retention. */
export const staging: Environment = {
  name: "staging",
  tier: "staging",
  clusterDomain: "staging.stratum.example.com",
  gitops: { repoURL: "https://github.com/stratum-platform/gitops.git", targetRevision: "main", basePath: "dist" },
  cloud: { provider: "aws", region: "eu-west-1", accountId: "222222222222" },
  ha: { nodeSpread: "hard", zoneSpread: "soft" },
  certificates: { issuer: "acme-dns01", acmeServer: "https://acme-staging-v02.api.letsencrypt.org/directory", email: "platform-team@stratum.example.com", hostedZoneId: "Z0STAGINGSTRATUM" },
  network: { vpcCidr: "10.20.0.0/16", apiServer: { cidrs: ["10.20.0.0/16"], port: 443 } },
  sizing: {
    services: { replicas: 2, resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "256Mi" } } },
  },
};
