import { createRemoteJWKSet, errors, jwtVerify, JWTPayload } from "jose";
import { JwtSettings } from "./config";

/** Why a token was refused; also the `reason` label of the failure metric. */
export type JwtFailure =
  | "missing"
  | "malformed"
  | "algorithm"
  | "signature"
  | "expired"
  | "not_yet_valid"
  | "issuer"
  | "audience"
  | "unknown_kid"
  | "jwks_unavailable"
  | "claims";

/** A refused token. */
export class TokenError extends Error {
  constructor(readonly reason: JwtFailure, message: string) {
    super(message);
  }
}

/** Longest token accepted; anything bigger is refused before it is parsed. */
export const MAX_TOKEN_LENGTH = 8192;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function classify(err: unknown): TokenError {
  if (err instanceof TokenError) return err;
  if (err instanceof errors.JWTExpired) return new TokenError("expired", "token expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "nbf") return new TokenError("not_yet_valid", "token not yet valid");
    if (err.claim === "iss") return new TokenError("issuer", "unexpected issuer");
    if (err.claim === "aud") return new TokenError("audience", "unexpected audience");
    return new TokenError("claims", `invalid claim ${err.claim}`);
  }
  // an unknown critical header parameter (RFC 7515 4.1.11) is not an algorithm problem
  if (err instanceof errors.JOSENotSupported && /extension header parameter/i.test(err.message)) return new TokenError("malformed", "unsupported critical header parameter");
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return new TokenError("algorithm", "algorithm not allowed");
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return new TokenError("unknown_kid", "no key matches the token's kid");
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenError("signature", "signature verification failed");
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return new TokenError("malformed", "malformed token");
  // Everything else comes from fetching the key set: timeouts, HTTP errors, network errors, an invalid set.
  return new TokenError("jwks_unavailable", "signing keys unavailable");
}

/**
 * Verifies bearer tokens against a JWKS: only the configured (asymmetric) algorithms, issuer, audience, exp and nbf
 * with a bounded clock skew, `exp` required. Keys are fetched and cached by jose's remote key set, which refetches
 * (at most once per cooldown) when a token names an unknown `kid`. Verified tokens are remembered, keyed by the
 * whole token, until their `exp`: the cache can only return what this verifier accepted for the exact same bytes.
 */
export class JwtVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  private readonly cache = new Map<string, { payload: JWTPayload; until: number }>();
  private lastSweep = 0;
  /** When fetching the key set last failed: for a cooldown after, tokens that need a fetch fail at once. */
  private fetchFailedAt = -Infinity;
  /** The key resolver handed to jwtVerify: jose's remote set, with the cooldown applied to failed fetches too. */
  private readonly keys: typeof this.jwks;

  constructor(private readonly settings: JwtSettings, private readonly now: () => number = Date.now) {
    this.jwks = createRemoteJWKSet(new URL(settings.jwksUri), {
      cacheMaxAge: settings.jwksCacheMaxAgeMs,
      cooldownDuration: settings.jwksCooldownMs,
      timeoutDuration: settings.jwksTimeoutMs,
    });
    // jose's cooldown only spaces out refetches after a successful one; an issuer that is down or hanging would
    // otherwise be asked again by every token that needs the keys
    const resolve = async (...args: Parameters<typeof this.jwks>) => {
      // a kid the cached set holds needs no fetch; any other would make jose fetch again
      const kid = args[0]?.kid;
      const cached = this.jwks.fresh ? this.jwks.jwks()?.keys ?? [] : [];
      const needsFetch = !cached.some((k) => k.kid === kid);
      if (needsFetch && this.now() - this.fetchFailedAt < settings.jwksCooldownMs) throw new TokenError("jwks_unavailable", "signing keys unavailable");
      try {
        return await this.jwks(...args);
      } catch (err) {
        if (classify(err).reason === "jwks_unavailable") this.fetchFailedAt = this.now();
        throw err;
      }
    };
    this.keys = resolve as unknown as typeof this.jwks;
  }

  /** Fetches the key set ahead of the first request; failures are left for requests to report. */
  async warmUp(): Promise<boolean> {
    try {
      await this.jwks.reload();
      return true;
    } catch {
      return false;
    }
  }

  /** Verified tokens currently cached. */
  get cacheSize(): number {
    return this.cache.size;
  }

  /** The payload of a token verified earlier and not yet expired, without any verification work. */
  cached(token: string): JWTPayload | undefined {
    const hit = this.cache.get(token);
    return hit && hit.until > this.now() ? hit.payload : undefined;
  }

  /** The payload of a valid token; throws TokenError with the reason otherwise. */
  async verify(token: string): Promise<JWTPayload> {
    const now = this.now();
    const hit = this.cache.get(token);
    if (hit) {
      if (hit.until > now) return hit.payload;
      this.cache.delete(token);
    }
    if (token.length > MAX_TOKEN_LENGTH) throw new TokenError("malformed", "token too long");
    if (!COMPACT_JWS.test(token)) throw new TokenError("malformed", "not a compact JWS");
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: this.settings.algorithms,
        clockTolerance: this.settings.clockSkewSec,
        requiredClaims: ["exp"],
        currentDate: new Date(now),
      }));
    } catch (err) {
      throw classify(err);
    }
    // RFC 7519 4.1.2: a StringOrURI; anything else would identify nobody (and share no per-user rate limit)
    if (payload.sub !== undefined && typeof payload.sub !== "string") throw new TokenError("claims", "invalid claim sub: must be a string");
    if (this.settings.tokenCacheSize > 0 && typeof payload.exp === "number") {
      // Cache until exp (without the skew allowance) so that a cached token never outlives a fresh verification.
      const until = Math.min(payload.exp * 1000, now + 5 * 60_000);
      if (until > now) {
        if (this.cache.size >= this.settings.tokenCacheSize) this.evict(now);
        this.cache.set(token, { payload, until });
      }
    }
    return payload;
  }

  private evict(now: number): void {
    // A full sweep for expired tokens at most once a second; otherwise the oldest entry makes room.
    if (now - this.lastSweep >= 1000) {
      this.lastSweep = now;
      for (const [k, v] of this.cache) if (v.until <= now) this.cache.delete(k);
    }
    while (this.cache.size >= this.settings.tokenCacheSize) this.cache.delete(this.cache.keys().next().value as string);
  }
}
