/** The three tiers a platform is built for. */
export const TIERS = ["dev", "staging", "prod"] as const;
/** A tier: dev, staging or prod. */
export type Tier = (typeof TIERS)[number];

/** CPU and memory as Kubernetes quantities. */
export interface ResourceQuantities {
  /** CPU, e.g. `250m`. */
  readonly cpu: string;
  /** Memory, e.g. `256Mi`. */
  readonly memory: string;
}

/** Requests and limits of one container. */
export interface Resources {
  /** What the scheduler reserves. */
  readonly requests: ResourceQuantities;
  /** The ceiling; memory limits equal to requests avoid OOM surprises under pressure. */
  readonly limits: ResourceQuantities;
}

/** How pods of one workload spread: `hard` refuses to co-locate, `soft` prefers not to. */
export type SpreadMode = "hard" | "soft";

/** Size of a stateless workload. */
export interface WorkloadSizing {
  /** Replica count. */
  readonly replicas: number;
  /** Requests and limits per replica. */
  readonly resources: Resources;
}

/** Size of a stateful, storage-backed component. */
export interface StatefulSizing extends WorkloadSizing {
  /** Persistent volume size, e.g. `20Gi`. */
  readonly storage: string;
  /** How long data or backups are kept, e.g. `7d`, `30d`. */
  readonly retention: string;
}

/** GitOps source of truth for one environment. */
export interface GitOpsSettings {
  /** The repository ArgoCD syncs from. */
  readonly repoURL: string;
  /** Branch, tag or commit ArgoCD tracks. */
  readonly targetRevision: string;
  /** Folder in the repository that holds `dist/` (the synth output). */
  readonly basePath: string;
}

/** Where the cluster runs. */
export interface CloudSettings {
  /** `aws` for EKS; `local` for a cluster without a cloud account (kind, k3d). */
  readonly provider: "aws" | "local";
  /** Cloud region, e.g. `eu-west-1`. */
  readonly region: string;
  /** AWS account id (12 digits) that holds the cluster's IAM roles and buckets; unused for `local`. */
  readonly accountId: string;
}

/** High-availability switches: the data that replaces `if (prod)` in components. */
export interface HighAvailability {
  /** Spread of replicas across nodes. */
  readonly nodeSpread: SpreadMode;
  /** Spread of replicas across zones. */
  readonly zoneSpread: SpreadMode;
}

/** How the platform's TLS certificates are issued. */
export interface CertificateSettings {
  /** `acme-dns01`: a public ACME CA, solved by DNS-01 in Route 53; `self-signed-ca`: a private CA made in the cluster. */
  readonly issuer: "acme-dns01" | "self-signed-ca";
  /** ACME directory URL (Let's Encrypt production or staging); unused for `self-signed-ca`. */
  readonly acmeServer: string;
  /** Contact e-mail registered with the ACME CA. */
  readonly email: string;
  /** Route 53 hosted zone of `clusterDomain`, for DNS-01; empty for `self-signed-ca`. */
  readonly hostedZoneId: string;
}

/** The cluster's network, as NetworkPolicies need it. */
export interface NetworkSettings {
  /** CIDR of the cluster's VPC (or node network): excluded from "the internet" in egress rules. */
  readonly vpcCidr: string;
  /** Where the Kubernetes API server answers pods: its endpoint CIDRs and port (EKS: ENIs in the VPC, 443). */
  readonly apiServer: { readonly cidrs: ReadonlyArray<string>; readonly port: number };
}

/** Per-component sizing; every component reads its own entry. */
export interface ComponentSizing {
  /** Default size of a business service (a service may override its replicas per tier). */
  readonly services: WorkloadSizing;
}

/**
 * Everything that differs between dev, staging and prod. Components read this data; none of them branches on the
 * environment's name.
 */
export interface Environment {
  /** Environment name, used in paths and object names, e.g. `prod`. */
  readonly name: string;
  /** The tier it belongs to. */
  readonly tier: Tier;
  /** Public DNS domain of the cluster's ingress, e.g. `prod.stratum.example.com`. */
  readonly clusterDomain: string;
  /** GitOps repository settings. */
  readonly gitops: GitOpsSettings;
  /** Cloud settings. */
  readonly cloud: CloudSettings;
  /** High-availability switches. */
  readonly ha: HighAvailability;
  /** Per-component sizing. */
  readonly sizing: ComponentSizing;
  /** TLS certificate issuance. */
  readonly certificates: CertificateSettings;
  /** The cluster's network. */
  readonly network: NetworkSettings;
}
