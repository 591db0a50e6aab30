import { once } from "node:events";
import { PassThrough } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { ObjectStorage } from "./storage";
import { TaskStore } from "./store";
import { TaskType } from "./task-types";
import { TaskContext, TaskHandler } from "./worker";

/** What the built-in handlers use. */
export interface HandlerDeps {
  readonly store: TaskStore;
  readonly storage?: ObjectStorage;
}

function needStorage(deps: HandlerDeps, type: string): ObjectStorage {
  if (!deps.storage) throw new Error(`${type} tasks need object storage, which is not configured`);
  return deps.storage;
}

/** import: reads the uploaded file (CSV or NDJSON) as a stream and counts the records it accepts and rejects. */
async function importFile(deps: HandlerDeps, ctx: TaskContext): Promise<unknown> {
  const p = ctx.task.parameters as { file: string; format: "csv" | "ndjson"; target: string; skipHeader?: boolean };
  const storage = needStorage(deps, "import");
  const file = (await deps.store.files(ctx.task.id)).find((f) => f.name === p.file);
  if (!file) throw new Error(`file ${p.file} was not uploaded for task ${ctx.task.id}`);
  const body = await storage.get(file.key, ctx.signal);
  let bytes = 0, records = 0, rejected = 0, lineNo = 0, rest = "";
  const take = (line: string) => {
    lineNo++;
    if (line.trim() === "") return;
    if (p.format === "csv") {
      if (lineNo === 1 && p.skipHeader) return;
      records++;
      return;
    }
    try {
      const v = JSON.parse(line);
      if (v && typeof v === "object" && !Array.isArray(v)) records++;
      else rejected++;
    } catch {
      rejected++;
    }
  };
  for await (const chunk of body) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    bytes += (chunk as Buffer).length;
    const lines = (rest + (chunk as Buffer).toString("utf8")).split("\n");
    rest = lines.pop() ?? "";
    if (rest.length > 1024 * 1024) throw new Error(`line ${lineNo + 1} is longer than 1 MiB`);
    for (const line of lines) take(line.replace(/\r$/, ""));
    ctx.progress(file.size ? (bytes / file.size) * 100 : 0, `${records} records`);
  }
  if (rest) take(rest);
  return { target: p.target, file: p.file, bytes, records, rejected };
}

/** export: writes the task records that match a filter to object storage as CSV or NDJSON, page by page. */
async function exportTasks(deps: HandlerDeps, ctx: TaskContext): Promise<unknown> {
  const p = ctx.task.parameters as { format: "csv" | "ndjson"; filter?: { type?: TaskType; state?: string; createdAfter?: string }; limit?: number };
  const storage = needStorage(deps, "export");
  const key = `exports/${ctx.task.id}/tasks.${p.format}`;
  const out = new PassThrough();
  // errors reach the handler through `uploaded` and the wait for 'drain' below, never as an unhandled 'error' event
  out.on("error", () => undefined);
  const uploaded = storage.upload(key, out, p.format === "csv" ? "text/csv" : "application/x-ndjson", Number.MAX_SAFE_INTEGER, ctx.signal);
  // an upload that failed reads no more: destroying the stream ends a write waiting for 'drain' with its error
  uploaded.catch((e) => out.destroy(e));
  const limit = p.limit ?? 100000;
  let rows = 0;
  let lastSeq = "0";
  const write = async (text: string) => {
    if (out.destroyed) throw out.errored ?? new Error("export stream closed");
    if (!out.write(text)) await once(out, "drain", { signal: ctx.signal });
  };
  try {
    if (p.format === "csv") await write("id,type,state,attempts,created_at,finished_at\n");
    while (rows < limit) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const args: unknown[] = [lastSeq, Math.min(500, limit - rows)];
      const where = ["seq > $1"];
      if (p.filter?.type) { args.push(p.filter.type); where.push(`type = $${args.length}`); }
      if (p.filter?.state) { args.push(p.filter.state); where.push(`state = $${args.length}`); }
      if (p.filter?.createdAfter) { args.push(p.filter.createdAfter); where.push(`created_at > $${args.length}`); }
      const r = await deps.store.pool.query(`SELECT seq, id, type, state, attempts, created_at, finished_at FROM tasks WHERE ${where.join(" AND ")} ORDER BY seq LIMIT $2`, args);
      if (r.rows.length === 0) break;
      for (const row of r.rows) {
        const rec = { id: row.id, type: row.type, state: row.state, attempts: row.attempts, createdAt: row.created_at?.toISOString() ?? null, finishedAt: row.finished_at?.toISOString() ?? null };
        await write(p.format === "csv" ? `${rec.id},${rec.type},${rec.state},${rec.attempts},${rec.createdAt},${rec.finishedAt ?? ""}\n` : JSON.stringify(rec) + "\n");
      }
      rows += r.rows.length;
      lastSeq = String(r.rows[r.rows.length - 1].seq);
      ctx.progress(Math.min(99, (rows / limit) * 100), `${rows} rows`);
    }
    out.end();
  } catch (e) {
    out.destroy(e as Error);
    await uploaded.catch(() => undefined);
    throw e;
  }
  const { size, sha256 } = await uploaded;
  return { key, rows, bytes: size, sha256 };
}

/** batch: processes the items one by one, reporting progress, pausing `itemDelayMs` between them. */
async function batch(_deps: HandlerDeps, ctx: TaskContext): Promise<unknown> {
  const p = ctx.task.parameters as { items: string[]; itemDelayMs?: number };
  let processed = 0;
  for (const _item of p.items) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (p.itemDelayMs) await delay(p.itemDelayMs, undefined, { signal: ctx.signal });
    processed++;
    ctx.progress((processed / p.items.length) * 100, `${processed}/${p.items.length} items`);
  }
  return { processed };
}

/** report: counts the tasks created in a time window, grouped by type or state, and stores the report as JSON. */
async function report(deps: HandlerDeps, ctx: TaskContext): Promise<unknown> {
  const p = ctx.task.parameters as { name: string; from: string; to: string; groupBy?: "type" | "state" };
  const column = p.groupBy === "state" ? "state" : "type";
  const r = await deps.store.pool.query(
    `SELECT ${column} AS k, count(*)::int AS n FROM tasks WHERE created_at >= $1 AND created_at < $2 GROUP BY ${column} ORDER BY ${column}`,
    [p.from, p.to],
  );
  const groups = Object.fromEntries(r.rows.map((row) => [row.k, row.n]));
  const body = { name: p.name, from: p.from, to: p.to, groupBy: column, groups };
  let key: string | null = null;
  if (deps.storage) {
    key = `reports/${ctx.task.id}/${p.name}.json`;
    await deps.storage.put(key, JSON.stringify(body), "application/json", ctx.signal);
  }
  return { ...body, key };
}

/** sync: takes an inventory of the objects under a prefix (count and bytes). */
async function sync(deps: HandlerDeps, ctx: TaskContext): Promise<unknown> {
  const p = ctx.task.parameters as { prefix: string };
  const storage = needStorage(deps, "sync");
  let objects = 0, bytes = 0;
  for await (const o of storage.list(p.prefix, ctx.signal)) {
    objects++;
    bytes += o.size;
    if (objects % 1000 === 0) ctx.progress(50, `${objects} objects`);
  }
  return { prefix: p.prefix, objects, bytes };
}

/** The built-in handler of every task type. */
export function builtinHandlers(deps: HandlerDeps): Record<TaskType, TaskHandler> {
  return {
    import: (ctx) => importFile(deps, ctx),
    export: (ctx) => exportTasks(deps, ctx),
    batch: (ctx) => batch(deps, ctx),
    report: (ctx) => report(deps, ctx),
    sync: (ctx) => sync(deps, ctx),
  };
}
