import { randomFillSync, randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { Transform } from "./config";

/** Hop-by-hop headers (RFC 9110 7.6.1): meaningful for one connection only, never forwarded. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

/** Copies headers without the hop-by-hop ones, including those the Connection header names. */
export function stripHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const conn = headers.connection;
  // most requests name nothing beyond keep-alive/close, so the set is built only when the header is there
  const named = conn ? new Set(String(conn).split(",").map((t) => t.trim().toLowerCase())) : undefined;
  const out: OutgoingHttpHeaders = {};
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined || HOP_BY_HOP.has(k) || named?.has(k)) continue;
    out[k] = v;
  }
  return out;
}

/** Applies remove, rename, add (in that order) to lower-case headers. */
export function applyTransform(headers: OutgoingHttpHeaders, t: Transform): void {
  for (const h of t.remove) delete headers[h];
  for (const [from, to] of t.rename) {
    if (headers[from] === undefined) continue;
    headers[to] = headers[from];
    delete headers[from];
  }
  for (const [h, v] of t.add) headers[h] = v;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's X-Request-Id when it is sane, otherwise a new UUID. */
export function requestId(headers: IncomingHttpHeaders): string {
  const given = headers["x-request-id"];
  return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
}

// Trace and span ids come from a pooled buffer: one getrandom call per 512 ids instead of one per id.
const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;
function randomHex(bytes: number): string {
  if (poolOffset + bytes > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const hex = POOL.toString("hex", poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The W3C traceparent to send upstream: the caller's trace with a new span id for the gateway's hop, or a new trace
 * (sampled) when the caller sent none or an invalid one (all-zero ids and version ff are invalid).
 */
export function nextTraceparent(headers: IncomingHttpHeaders): { traceparent: string; started: boolean } {
  const given = headers.traceparent;
  const m = typeof given === "string" ? TRACEPARENT.exec(given.trim()) : null;
  const span = randomHex(8);
  if (m && m[1] !== "ff" && !/^0+$/.test(m[2]) && !/^0+$/.test(m[3])) return { traceparent: `00-${m[2]}-${span}-${m[4]}`, started: false };
  return { traceparent: `00-${randomHex(16)}-${span}-01`, started: true };
}

/**
 * The client's address: X-Forwarded-For is trusted for exactly `trustedHops` proxies in front of the gateway, so the
 * address is the entry that many hops from the right (the socket peer is the last hop). Entries a client prepends
 * itself are never used.
 */
export function clientIp(headers: IncomingHttpHeaders, peer: string | undefined, trustedHops: number): string {
  const remote = (peer ?? "unknown").replace(/^::ffff:/, "");
  if (trustedHops <= 0) return remote;
  const xff = headers["x-forwarded-for"];
  const raw = Array.isArray(xff) ? xff.join(",") : xff;
  if (!raw) return remote;
  const hops = raw.split(",").map((s) => s.trim()).filter(Boolean);
  const chain = [...hops, remote];
  const idx = chain.length - 1 - trustedHops;
  const ip = chain[Math.max(0, idx)];
  return ip.length <= 64 && /^[0-9A-Fa-f:.]+$/.test(ip) ? ip.replace(/^::ffff:/, "") : remote;
}

/** The bearer token of an Authorization header, `undefined` when absent, `null` when present but not a bearer token. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined | null {
  const auth = headers.authorization;
  if (auth === undefined) return undefined;
  const m = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(auth);
  return m ? m[1] : null;
}
