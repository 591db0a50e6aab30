import { Environment } from "./environment";

/** A small, single-replica platform for developers; one local or low-cost cluster. */
export const dev: Environment = {
  name: "dev",
  tier: "dev",
  clusterDomain: "dev.stratum.example.com",
  gitops: { repoURL: "https://github.com/stratum-platform/gitops.git", targetRevision: "main", basePath: "dist" },
  cloud: { provider: "aws", region: "eu-west-1", accountId: "111111111111" },
  ha: { nodeSpread: "soft", zoneSpread: "soft" },
  certificates: { issuer: "self-signed-ca", acmeServer: "https://acme-staging-v02.api.letsencrypt.org/directory", email: "platform-team@stratum.example.com", hostedZoneId: "" },
  network: { vpcCidr: "10.10.0.0/16", apiServer: { cidrs: ["10.10.0.0/16"], port: 443 } },
  sizing: {
    services: { replicas: 1, resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "128Mi" } } },
  },
};
