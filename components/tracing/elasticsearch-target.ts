import type { SecretKeyRef } from "../../constructs/secret-ref";

/**
 * What a client component needs from the platform's Elasticsearch: where it answers, how the client proves who it is,
 * and how it checks the server's certificate. The stack builds it from the Elasticsearch component; tests build
 * their own. Credentials and the CA never travel as values, only as Secret references in the client's namespace.
 */
export interface ElasticsearchTarget {
  /** Graph node id of the HTTP endpoint (the edge client -> Elasticsearch is declared on it). */
  readonly graphNode: string;
  /** In-cluster host of the HTTPS endpoint. */
  readonly host: string;
  /** HTTPS port. */
  readonly port: number;
  /**
   * Declares the Secret with a client's credentials in the client's namespace and returns references to it.
   * `keys` names the Secret's keys for user name and password (some clients read fixed environment names).
   */
  credentials(client: { readonly namespace: string; readonly name: string; readonly keys?: { readonly username: string; readonly password: string } }): {
    readonly secretName: string;
    readonly username: SecretKeyRef;
    readonly password: SecretKeyRef;
  };
  /** Declares the Secret with the endpoint's CA certificate (PEM) in the client's namespace and returns it. */
  caCertificate(namespace: string): SecretKeyRef;
  /** Name of the ILM policy that log indices use. */
  readonly logsIlmPolicy: string;
}

/** `https://host:port` of a target. */
export function elasticsearchUrl(target: ElasticsearchTarget): string {
  return `https://${target.host}:${target.port}`;
}

/** Days in a retention such as `7d` or `2w`. */
export function retentionDays(retention: string, what: string): number {
  const m = /^([1-9][0-9]*)([dw])$/.exec(retention);
  if (!m) throw new Error(`${what}: retention must be whole days or weeks such as 7d or 2w (got ${JSON.stringify(retention)})`);
  return Number(m[1]) * (m[2] === "w" ? 7 : 1);
}
