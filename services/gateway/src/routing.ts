import type { JWTPayload } from "jose";
import { Route } from "./config";
import { claimAt } from "./claims";

/**
 * Splits a request target into path and query; `null` for targets the gateway refuses (see `pathProblem`). The path
 * comes back normalised (percent-encoded unreserved characters decoded, RFC 3986 6.2.2.2): routes match, and the
 * upstream receives, one spelling of it, so `/api/%61dmin` cannot slip past the rules of `/api/admin`.
 */
export function splitTarget(url: string | undefined): { path: string; query: string } | null {
  if (!url || url[0] !== "/" || url.length > 8192) return null;
  const q = url.indexOf("?");
  const raw = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? "" : url.slice(q);
  if (pathProblem(raw)) return null;
  if (!raw.includes("%")) return { path: raw, query };
  const path = raw.replace(/%([0-9a-f]{2})/gi, (m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(c) ? c : m.toUpperCase();
  });
  return pathProblem(path) ? null : { path, query };
}

/** Characters that mean the same percent-encoded or not (RFC 3986 2.3). */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * Why a path is refused: dot segments (plain or percent-encoded), encoded slashes or backslashes, control
 * characters, a fragment and broken percent-encoding could make the upstream see a different path than the one the
 * route and its auth rules matched.
 */
export function pathProblem(path: string): string | undefined {
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return "control character or backslash in path";
  if (path.includes("#")) return "fragment in request target";
  if (/%(?![0-9a-f]{2})/i.test(path)) return "broken percent-encoding in path";
  if (/%(2f|5c|00)/i.test(path)) return "encoded slash, backslash or NUL in path";
  const decoded = path.replace(/%2e/gi, ".");
  if (/(^|\/)\.\.?(\/|$)/.test(decoded)) return "dot segment in path";
  if (path.startsWith("//")) return "path starts with //";
  return undefined;
}

/** The route with the longest prefix that matches the path on a segment boundary. */
export function matchRoute(routes: ReadonlyArray<Route>, path: string): Route | undefined {
  for (const r of routes) {
    const p = r.pathPrefix;
    if (p === "/" || path === p || (path.startsWith(p) && (p.endsWith("/") || path[p.length] === "/"))) return r;
  }
  return undefined;
}

/** The path the upstream receives. */
export function upstreamPath(route: Route, path: string, query: string): string {
  if (!route.stripPrefix || route.pathPrefix === "/") return path + query;
  const rest = path.slice(route.pathPrefix.length);
  return (rest.startsWith("/") ? rest : `/${rest}`) + query;
}

/** Roles of a caller: a list claim, or a space-separated string (OAuth `scope` style). */
export function rolesOf(payload: JWTPayload, claim: string): string[] {
  const v = claimAt(payload, claim);
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  if (typeof v === "string") return v.split(" ").filter(Boolean);
  return [];
}

/** Why a verified caller may not use a route (403), or undefined when it may. */
export function forbiddenReason(route: Route, payload: JWTPayload, rolesClaim: string): string | undefined {
  if (route.roles.length) {
    const have = new Set(rolesOf(payload, rolesClaim));
    if (!route.roles.some((r) => have.has(r))) return `requires one of the roles: ${route.roles.join(", ")}`;
  }
  for (const [claim, allowed] of route.claims) {
    const v = claimAt(payload, claim);
    const values = Array.isArray(v) ? v : [v];
    if (!values.some((x) => allowed.includes(x as string | number | boolean))) return `claim '${claim}' does not match`;
  }
  return undefined;
}
