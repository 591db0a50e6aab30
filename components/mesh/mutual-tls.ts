import { Construct } from "constructs";
import { PeerAuthentication, PeerAuthenticationSpecMtlsMode, PeerAuthenticationSpecPortLevelMtlsMode } from "../../constructs/imports/istio-security.istio.io";
import { kubeName } from "../../constructs/names";
import { ISTIO_NAMESPACE, istioMetadata } from "./constants";

/** A justified relaxation of STRICT mTLS: plaintext accepted on some ports of some pods (e.g. a webhook the API server calls). */
export interface MtlsException {
  /** Namespace of the pods. */
  readonly namespace: string;
  /** Labels that select the pods. */
  readonly selector: Readonly<Record<string, string>>;
  /** Container ports on which plaintext is accepted as well as mTLS. */
  readonly ports: ReadonlyArray<number>;
  /** Why; written to the object's `stratum.dev/mtls-exception` annotation. */
  readonly reason: string;
  /** Name of the PeerAuthentication. @default derived from the selector */
  readonly name?: string;
}

/**
 * Mesh-wide STRICT mutual TLS: a PeerAuthentication `default` in Istio's root namespace, so no workload accepts
 * plaintext. Exceptions are per port, typed and carry their reason in the output.
 */
export class MeshMutualTls extends Construct {
  /** The mesh-wide policy. */
  readonly policy: PeerAuthentication;
  private readonly exceptions = new Set<string>();

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.policy = new PeerAuthentication(this, "Strict", {
      metadata: istioMetadata("default", ISTIO_NAMESPACE, "mesh-security"),
      spec: { mtls: { mode: PeerAuthenticationSpecMtlsMode.STRICT } },
    });
  }

  /** Accepts plaintext on some ports of some pods (PERMISSIVE at port level); every other port stays STRICT. */
  addException(exception: MtlsException): PeerAuthentication {
    const problems: string[] = [];
    if (exception.reason.trim().length < 10) problems.push(`reason must explain the exception in words (got ${JSON.stringify(exception.reason)})`);
    if (Object.keys(exception.selector).length === 0) problems.push("selector must select some pods; a namespace-wide exception is not allowed");
    if (exception.ports.length === 0) problems.push("ports must name at least one port");
    for (const p of exception.ports) if (!Number.isInteger(p) || p < 1 || p > 65535) problems.push(`ports must be 1-65535 (got ${p})`);
    if (problems.length) throw new Error(`${this.node.path}: mTLS exception in ${exception.namespace}: ${problems.join("; ")}`);
    const name = exception.name ?? kubeName(["mtls-exception", ...Object.values(exception.selector)]);
    const key = `${exception.namespace}/${name}`;
    if (this.exceptions.has(key)) throw new Error(`${this.node.path}: mTLS exception ${key} is declared twice`);
    this.exceptions.add(key);
    return new PeerAuthentication(this, `Exception-${exception.namespace}-${name}`, {
      metadata: istioMetadata(name, exception.namespace, "mesh-security", { "stratum.dev/mtls-exception": exception.reason }),
      spec: {
        selector: { matchLabels: { ...exception.selector } },
        mtls: { mode: PeerAuthenticationSpecMtlsMode.STRICT },
        portLevelMtls: Object.fromEntries([...exception.ports].sort((a, b) => a - b).map((p) => [String(p), { mode: PeerAuthenticationSpecPortLevelMtlsMode.PERMISSIVE }])),
      },
    });
  }
}
