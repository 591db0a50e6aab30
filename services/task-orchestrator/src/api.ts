import { randomUUID } from "node:crypto";
import { IncomingMessage, ServerResponse } from "node:http";
import { Config } from "./config";
import { isConnectionError } from "./db";
import { IllegalTransitionError, TASK_STATES, TaskState } from "./lifecycle";
import { Logger } from "./logger";
import { Metrics } from "./metrics";
import { ObjectStorage, TooLargeError } from "./storage";
import { decodeCursor, TaskConflictError, TaskNotFoundError, TaskStore } from "./store";
import { FieldError, ParameterValidator, TASK_TYPES, TaskType } from "./task-types";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** An error answered with a status and a JSON body `{ error, message, fields? }`. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly fields?: ReadonlyArray<FieldError>, readonly extra?: Record<string, unknown>) {
    super(message);
  }
}

const invalid = (fields: FieldError[]) => new HttpError(400, "invalid_request", `invalid request: ${fields.map((f) => `${f.field} ${f.message}`).join("; ")}`, fields);

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), "cache-control": "no-store", ...headers });
  res.end(text);
}

/**
 * The client closed the connection before its body was complete (nginx's 499). Nobody hears the answer; it is
 * counted as such rather than as a failure of ours (the socket's ECONNRESET would otherwise read as a database
 * connection error, and an upload's as failed object storage).
 */
const clientClosed = () => new HttpError(499, "client_closed_request", "the client closed the connection before the request body was complete");

/** True when the request's body will never complete because its connection is gone. */
const bodyAbandoned = (req: IncomingMessage) => req.destroyed && !req.complete;

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) throw new HttpError(413, "payload_too_large", `request body is larger than ${limit} bytes`);
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") throw new HttpError(415, "unsupported_media_type", `content-type must be application/json (got ${JSON.stringify(type || "none")})`);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new HttpError(413, "payload_too_large", `request body is larger than ${limit} bytes`);
      chunks.push(chunk as Buffer);
    }
  } catch (e) {
    if (!(e instanceof HttpError) && bodyAbandoned(req)) throw clientClosed();
    throw e;
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (e) {
    throw new HttpError(400, "malformed_json", `request body is not valid JSON: ${(e as Error).message}`, [{ field: "body", message: "is not valid JSON" }]);
  }
}

function taskId(raw: string): string {
  if (!UUID.test(raw)) throw invalid([{ field: "id", message: "must be a UUID" }]);
  return raw.toLowerCase();
}

function pathSegment(raw: string, field: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalid([{ field, message: "is not valid percent-encoding" }]);
  }
}

/** An object store that failed or did not answer in time: 503, so that clients retry the upload. */
const storageUnavailable = (e: unknown) =>
  new HttpError(503, "storage_unavailable", `object storage failed: ${String((e as Error)?.message ?? e).replace(/\.$/, "")}; retry later`, undefined, { retryAfter: 5 });

/** The route template of a path, for metric labels (bounded cardinality: ids never become labels). */
export function routeTemplate(pathname: string): string {
  if (pathname === "/healthz" || pathname === "/readyz") return pathname;
  const p = pathname.split("/").filter(Boolean);
  if (p[0] !== "v1" || p[1] !== "tasks") return "unmatched";
  if (p.length === 2) return "/v1/tasks";
  if (p.length === 3) return "/v1/tasks/{id}";
  if (p.length === 4 && ["cancel", "retry", "files"].includes(p[3])) return `/v1/tasks/{id}/${p[3]}`;
  if (p.length === 5 && p[3] === "files") return "/v1/tasks/{id}/files/{name}";
  return "unmatched";
}

/** What the API serves from. */
export interface ApiDeps {
  readonly config: Config;
  readonly store: TaskStore;
  readonly storage?: ObjectStorage;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** False while starting or draining: /readyz answers 503. */
  readonly isReady: () => boolean;
}

/** The REST API (see openapi.yaml): tasks, their files, health. */
export function createApiHandler(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const validator = new ParameterValidator();
  const { config, store, log, metrics } = deps;

  async function createTask(req: IncomingMessage, res: ServerResponse) {
    const body = await readJson(req, config.http.maxBodyBytes);
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw invalid([{ field: "body", message: "must be a JSON object" }]);
    const b = body as Record<string, unknown>;
    const fields: FieldError[] = [];
    for (const k of Object.keys(b)) if (!["type", "parameters", "priority", "maxRetries"].includes(k)) fields.push({ field: k, message: "is not allowed" });
    if (!TASK_TYPES.includes(b.type as TaskType)) fields.push({ field: "type", message: b.type === undefined ? "is required" : `must be one of ${TASK_TYPES.join(", ")}` });
    if (b.priority !== undefined && !(Number.isInteger(b.priority) && (b.priority as number) >= -100 && (b.priority as number) <= 100)) fields.push({ field: "priority", message: "must be an integer from -100 to 100" });
    if (b.maxRetries !== undefined && !(Number.isInteger(b.maxRetries) && (b.maxRetries as number) >= 0 && (b.maxRetries as number) <= 100)) fields.push({ field: "maxRetries", message: "must be an integer from 0 to 100" });
    if (b.parameters === undefined) fields.push({ field: "parameters", message: "is required" });
    else if (TASK_TYPES.includes(b.type as TaskType)) fields.push(...validator.check(b.type as TaskType, b.parameters));
    const key = req.headers["idempotency-key"];
    if (key !== undefined && (typeof key !== "string" || !/^[\x21-\x7e]{1,200}$/.test(key))) fields.push({ field: "Idempotency-Key", message: "must be 1-200 visible ASCII characters" });
    if (fields.length) throw invalid(fields);
    const { task, created } = await store.create({
      type: b.type as TaskType,
      parameters: b.parameters as Record<string, unknown>,
      priority: b.priority as number | undefined,
      maxRetries: b.maxRetries as number | undefined,
      idempotencyKey: key as string | undefined,
    });
    send(res, created ? 201 : 200, task, { location: `/v1/tasks/${task.id}` });
  }

  async function listTasks(url: URL, res: ServerResponse) {
    const q = url.searchParams;
    const fields: FieldError[] = [];
    for (const k of q.keys()) if (!["type", "state", "limit", "cursor"].includes(k)) fields.push({ field: k, message: "is not a known query parameter" });
    const type = q.get("type") ?? undefined;
    const state = q.get("state") ?? undefined;
    if (type !== undefined && !TASK_TYPES.includes(type as TaskType)) fields.push({ field: "type", message: `must be one of ${TASK_TYPES.join(", ")}` });
    if (state !== undefined && !TASK_STATES.includes(state as TaskState)) fields.push({ field: "state", message: `must be one of ${TASK_STATES.join(", ")}` });
    const rawLimit = q.get("limit");
    const limit = rawLimit === null ? config.api.defaultPageSize : Number(rawLimit);
    if (!/^\d+$/.test(rawLimit ?? "1") || !Number.isInteger(limit) || limit < 1 || limit > config.api.maxPageSize) fields.push({ field: "limit", message: `must be an integer from 1 to ${config.api.maxPageSize}` });
    const rawCursor = q.get("cursor");
    const cursor = rawCursor === null ? undefined : decodeCursor(rawCursor);
    if (rawCursor !== null && cursor === undefined) fields.push({ field: "cursor", message: "is not a cursor returned by this API" });
    if (fields.length) throw invalid(fields);
    send(res, 200, await store.list({ type: type as TaskType | undefined, state: state as TaskState | undefined, limit, cursor }));
  }

  async function upload(req: IncomingMessage, res: ServerResponse, id: string, name: string) {
    const fields: FieldError[] = [];
    if (!FILE_NAME.test(name)) fields.push({ field: "name", message: "must be 1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit" });
    const digestHeader = req.headers["x-checksum-sha256"] ?? req.headers["content-digest"];
    let expected: string | undefined;
    if (typeof digestHeader === "string") {
      const m = /sha-256=:([A-Za-z0-9+/=]+):/.exec(digestHeader);
      if (m) expected = Buffer.from(m[1], "base64").toString("hex");
      else if (/^[0-9a-fA-F]{64}$/.test(digestHeader)) expected = digestHeader.toLowerCase();
      else fields.push({ field: req.headers["x-checksum-sha256"] ? "X-Checksum-SHA256" : "Content-Digest", message: "must be a hex SHA-256 (X-Checksum-SHA256) or sha-256=:<base64>: (Content-Digest)" });
    }
    if (fields.length) throw invalid(fields);
    const contentType = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    if (!config.storage.allowedContentTypes.includes(contentType)) {
      throw new HttpError(415, "unsupported_media_type", `content-type ${JSON.stringify(contentType || "none")} is not accepted; allowed: ${config.storage.allowedContentTypes.join(", ")}`);
    }
    const max = config.storage.maxUploadBytes;
    const declared = req.headers["content-length"] !== undefined ? Number(req.headers["content-length"]) : undefined;
    if (declared !== undefined && declared > max) throw new HttpError(413, "payload_too_large", `file is ${declared} bytes; the limit is ${max} bytes`, undefined, { limit: max });
    if (!deps.storage) throw new HttpError(503, "storage_unavailable", "object storage is not configured");
    await store.assertAcceptsFiles(id);
    const storage = deps.storage;
    const key = `tasks/${id}/${name}`;
    // The body goes to a key of its own and is copied into place only once it is verified and the task still takes
    // it: a bad or refused upload never touches the file stored before it.
    const staging = `staging/${id}/${randomUUID()}`;
    let storageFailed = false;
    const unavailable = (e: unknown) => {
      storageFailed = true;
      return storageUnavailable(e);
    };
    try {
      let result: { size: number; sha256: string };
      try {
        result = await storage.upload(staging, req, contentType, max);
      } catch (e) {
        if (e instanceof TooLargeError) throw new HttpError(413, "payload_too_large", `file exceeds the limit of ${max} bytes`, undefined, { limit: max });
        if (bodyAbandoned(req)) throw clientClosed();
        throw unavailable(e);
      }
      metrics.uploadBytes.inc(result.size);
      if (expected && expected !== result.sha256) {
        throw new HttpError(400, "checksum_mismatch", `SHA-256 of the received file is ${result.sha256}, the request declared ${expected}`, [{ field: "X-Checksum-SHA256", message: "does not match the received file" }]);
      }
      const file = await store.addFile(id, { name, key, size: result.size, contentType, sha256: result.sha256 }, () =>
        storage.copy(staging, key).catch((e) => { throw unavailable(e); }));
      send(res, 201, file);
    } finally {
      const cleanup = storage.delete(staging).catch((e) => log.warn("staging object not deleted", { key: staging, error: String(e) }));
      // a store that just failed would make the client wait for its timeouts once more before hearing about it
      if (!storageFailed) await cleanup;
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<string> {
    const parts = url.pathname.split("/").filter(Boolean);
    const m = req.method ?? "GET";
    if (url.pathname === "/healthz" && m === "GET") { send(res, 200, { status: "ok" }); return "/healthz"; }
    if (url.pathname === "/readyz" && m === "GET") {
      let ok = deps.isReady();
      if (ok) ok = await store.pool.query("SELECT 1").then(() => true, () => false);
      send(res, ok ? 200 : 503, { status: ok ? "ready" : "not ready" });
      return "/readyz";
    }
    if (parts[0] !== "v1" || parts[1] !== "tasks") throw new HttpError(404, "not_found", `no route for ${m} ${url.pathname}`);
    const allow = (route: string, methods: string[]) => {
      if (!methods.includes(m)) throw new HttpError(405, "method_not_allowed", `${m} is not allowed on ${route}; allowed: ${methods.join(", ")}`, undefined, { allow: methods.join(", ") });
      return route;
    };
    if (parts.length === 2) {
      const r = allow("/v1/tasks", ["GET", "POST"]);
      if (m === "POST") await createTask(req, res);
      else await listTasks(url, res);
      return r;
    }
    const id = taskId(pathSegment(parts[2], "id"));
    if (parts.length === 3) {
      const r = allow("/v1/tasks/{id}", ["GET"]);
      const task = await store.get(id);
      if (!task) throw new TaskNotFoundError(id);
      send(res, 200, task);
      return r;
    }
    if (parts.length === 4 && (parts[3] === "cancel" || parts[3] === "retry")) {
      const r = allow(`/v1/tasks/{id}/${parts[3]}`, ["POST"]);
      send(res, 200, parts[3] === "cancel" ? await store.cancel(id) : await store.retry(id));
      return r;
    }
    if (parts.length === 4 && parts[3] === "files") {
      const r = allow("/v1/tasks/{id}/files", ["GET"]);
      if (!(await store.get(id))) throw new TaskNotFoundError(id);
      send(res, 200, { items: await store.files(id) });
      return r;
    }
    if (parts.length === 5 && parts[3] === "files") {
      const r = allow("/v1/tasks/{id}/files/{name}", ["PUT"]);
      await upload(req, res, id, pathSegment(parts[4], "name"));
      return r;
    }
    throw new HttpError(404, "not_found", `no route for ${m} ${url.pathname}`);
  }

  return (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      url = new URL("http://localhost/");
    }
    const routeName = routeTemplate(url.pathname);
    route(req, res, url)
      .catch((e) => {
        let err: HttpError;
        if (e instanceof HttpError) err = e;
        else if (e instanceof IllegalTransitionError) err = new HttpError(409, "illegal_transition", e.message, undefined, { from: e.from, to: e.to });
        else if (e instanceof TaskNotFoundError) err = new HttpError(404, "not_found", e.message);
        else if (e instanceof TaskConflictError) err = new HttpError(409, "conflict", e.message);
        else if ((e as { code?: unknown })?.code === "57014") {
          // statement_timeout: the database is too slow or a row is locked for too long; the request may succeed later
          log.warn("database statement timed out", { method: req.method, path: url.pathname, error: String(e) });
          err = new HttpError(503, "database_timeout", "the task database did not answer in time; retry later", undefined, { retryAfter: 5 });
        } else if (isConnectionError(e)) {
          log.warn("database unavailable", { method: req.method, path: url.pathname, error: String(e) });
          err = new HttpError(503, "database_unavailable", "the task database is unavailable; retry later", undefined, { retryAfter: 5 });
        } else {
          log.error("request failed", { method: req.method, path: url.pathname, error: String((e as Error)?.stack ?? e) });
          err = new HttpError(500, "internal", "internal error");
        }
        if (res.headersSent) { res.destroy(); return; }
        const headers: Record<string, string> = {};
        if (err.extra?.allow) headers.allow = String(err.extra.allow);
        if (err.extra?.retryAfter) headers["retry-after"] = String(err.extra.retryAfter);
        // a body we did not read (too large, refused early) is not drained: close the connection instead
        if (!req.complete) headers.connection = "close";
        send(res, err.status, { error: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}), ...(err.extra ?? {}) }, headers);
        if (!req.complete) res.once("finish", () => setTimeout(() => req.destroy(), 100).unref());
      })
      .finally(() => {
        metrics.http.inc({ method: req.method ?? "", route: routeName, status: String(res.statusCode) });
      });
  };
}
