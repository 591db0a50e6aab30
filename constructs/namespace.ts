import { Construct } from "constructs";
import * as k8s from "./imports/k8s";
import { recommendedLabels } from "./labels";
import { DnsEndpoint, NamespaceBaselinePolicies } from "./network-policy";

/** Pod Security Standards levels. */
export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

/** A relaxation of the namespace's Pod Security level: typed, and visible in the output with its reason. */
export interface PodSecurityException {
  /** The level to enforce instead of `restricted`. */
  readonly level: Exclude<PodSecurityLevel, "restricted">;
  /** Why the namespace needs it; written to the `stratum.dev/pod-security-exception` annotation. */
  readonly reason: string;
}

/** Props of a platform namespace. */
export interface PlatformNamespaceProps {
  /** Namespace name. */
  readonly name: string;
  /** Component that owns it (label). */
  readonly component: string;
  /** Extra labels, e.g. the mesh's sidecar injection. @default none */
  readonly labels?: Record<string, string>;
  /** A justified relaxation of Pod Security. @default restricted is enforced */
  readonly podSecurityException?: PodSecurityException;
  /** Cluster DNS for the baseline egress rule. @default CoreDNS in kube-system */
  readonly dns?: DnsEndpoint;
}

/** Kubernetes version whose Pod Security rules are pinned, so an upgrade never tightens them silently. */
export const POD_SECURITY_VERSION = "v1.28";

/**
 * A namespace with Pod Security `restricted` enforced (unless a justified exception), and its zero-trust baseline:
 * default-deny NetworkPolicy for ingress and egress plus DNS egress.
 */
export class PlatformNamespace extends Construct {
  /** The namespace name. */
  readonly name: string;
  private readonly resource: k8s.KubeNamespace;

  constructor(scope: Construct, id: string, props: PlatformNamespaceProps) {
    super(scope, id);
    if (props.podSecurityException && props.podSecurityException.reason.trim().length < 10) {
      throw new Error(`${this.node.path}: podSecurityException.reason must explain the exception in words (got ${JSON.stringify(props.podSecurityException.reason)})`);
    }
    this.name = props.name;
    const level = props.podSecurityException?.level ?? "restricted";
    this.resource = new k8s.KubeNamespace(this, "Namespace", {
      metadata: {
        name: props.name,
        labels: {
          ...recommendedLabels({ name: props.name, component: props.component }),
          "pod-security.kubernetes.io/enforce": level,
          "pod-security.kubernetes.io/enforce-version": POD_SECURITY_VERSION,
          "pod-security.kubernetes.io/audit": "restricted",
          "pod-security.kubernetes.io/audit-version": POD_SECURITY_VERSION,
          "pod-security.kubernetes.io/warn": "restricted",
          "pod-security.kubernetes.io/warn-version": POD_SECURITY_VERSION,
          ...props.labels,
        },
        annotations: props.podSecurityException ? { "stratum.dev/pod-security-exception": props.podSecurityException.reason } : undefined,
      },
    });
    new NamespaceBaselinePolicies(this, "Baseline", { namespace: props.name, dns: props.dns });
  }

  /** Adds labels after construction, for components that decide them once the graph is complete (sidecar injection). */
  addLabels(labels: Readonly<Record<string, string>>): void {
    for (const [key, value] of Object.entries(labels)) this.resource.metadata.addLabel(key, value);
  }
}
