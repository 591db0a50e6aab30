import type { JWTPayload } from "jose";

/** The value at a dotted path of the claims (`realm_access.roles`). */
export function claimAt(payload: JWTPayload, path: string): unknown {
  let v: unknown = payload;
  for (const seg of path.split(".")) {
    if (v === null || typeof v !== "object" || !Object.prototype.hasOwnProperty.call(v, seg)) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}
