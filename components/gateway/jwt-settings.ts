import type { Environment } from "../../stacks/environments/environment";
import { ALLOWED_ALGORITHMS } from "../../services/gateway/src/config-schema";

/** An asymmetric JWS algorithm the gateway accepts. */
export type JwtAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

/**
 * How the gateway (and the mesh's RequestAuthentication at the edge) check tokens. Shaped like the mesh's
 * `JwtConfig` (issuer, jwksUri, audiences) so one object configures both.
 */
export interface GatewayJwt {
  /** Expected `iss` claim. */
  readonly issuer: string;
  /** Where the issuer publishes its signing keys (JWKS). */
  readonly jwksUri: string;
  /** Accepted `aud` values; a token must carry one of them. */
  readonly audiences: ReadonlyArray<string>;
  /** Accepted algorithms (asymmetric only). @default ["RS256"] */
  readonly algorithms?: ReadonlyArray<JwtAlgorithm>;
  /** Tolerated clock difference for exp and nbf, at most 5m. @default "30s" */
  readonly clockSkew?: string;
  /** Claim (dotted path) that holds the caller's roles. @default "roles" */
  readonly rolesClaim?: string;
}

/**
 * The per-environment defaults: the identity provider at `auth.<clusterDomain>` with its JWKS at the well-known path,
 * audience `api.<clusterDomain>`, RS256. These are also the mesh's defaults, so edge and gateway agree.
 */
export function defaultGatewayJwt(env: Environment): GatewayJwt {
  const domain = env.clusterDomain;
  return {
    issuer: `https://auth.${domain}`,
    jwksUri: `https://auth.${domain}/.well-known/jwks.json`,
    audiences: [`api.${domain}`],
    algorithms: ["RS256"],
    clockSkew: "30s",
    rolesClaim: "roles",
  };
}

/** What is wrong with JWT settings (the component throws them with its path). */
export function gatewayJwtProblems(jwt: GatewayJwt): string[] {
  const problems: string[] = [];
  if (!/^https:\/\/[^\s/]+(\/\S*)?$/.test(jwt.issuer)) problems.push(`jwt.issuer must be an https URL (got ${JSON.stringify(jwt.issuer)})`);
  if (!/^https:\/\/[^\s/]+\/\S*$/.test(jwt.jwksUri)) problems.push(`jwt.jwksUri must be an https URL with a path (got ${JSON.stringify(jwt.jwksUri)})`);
  if (jwt.audiences.length === 0 || jwt.audiences.some((a) => a.trim() === "")) problems.push("jwt.audiences must name at least one non-empty audience");
  const bad = (jwt.algorithms ?? []).filter((a) => !(ALLOWED_ALGORITHMS as ReadonlyArray<string>).includes(a));
  if (bad.length) problems.push(`jwt.algorithms must be asymmetric (${ALLOWED_ALGORITHMS.join(", ")}); got ${bad.join(", ")}`);
  if (jwt.algorithms && jwt.algorithms.length === 0) problems.push("jwt.algorithms must name at least one algorithm");
  return problems;
}
