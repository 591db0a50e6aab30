// `npm run bench:tasks`: task state transitions per second through the PostgreSQL queue, with 1, 2 and 8 workers.
// Workers are real orchestrator processes (the bundle that the asset ships, `--role worker`)
// against a throwaway PostgreSQL cluster; M no-op batch tasks are queued up front and every worker claims
// (pending -> running) and completes (running -> completed) them, so transitions = 2 * M. A second series runs the
// workers as concurrency slots of one process (claims batched). Printed with the goal from
// the issue (>= 1,000 transitions/s); nothing passes or fails on time. BENCH_TASKS (default 2000).
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const esbuild = require("esbuild");
const { Client } = require("pg");

const root = path.resolve(__dirname, "..");
const BUNDLE = path.join(root, "lib", "assets", "task-orchestrator", "index.js");
const TASKS = Number(process.env.BENCH_TASKS ?? 2000);
const GOAL = 1000;

function loadPostgresHelper(dir) {
  const out = path.join(dir, "postgres-helper.js");
  esbuild.buildSync({ entryPoints: [path.join(root, "test", "support", "postgres.ts")], bundle: true, platform: "node", format: "cjs", outfile: out, external: ["pg-native"], logLevel: "warning" });
  return require(out);
}

function startWorker(configFile) {
  const child = spawn(process.execPath, [BUNDLE, "--config", configFile, "--role", "worker"], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const ready = new Promise((resolve) => child.stdout.on("data", (d) => { out += d; if (out.includes('"msg":"started"')) resolve(); }));
  return { child, ready, exited: new Promise((r) => child.once("exit", r)) };
}

async function run(pg, processes, concurrency) {
  const url = await pg.createDatabase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-bench-tasks-"));
  const configFile = path.join(dir, "config.json");
  fs.writeFileSync(configFile, JSON.stringify({
    http: { host: "127.0.0.1", port: 0 }, metrics: { port: 0 }, database: { url, poolSize: 4 },
    worker: { concurrency, pollMs: 10, leaseSeconds: 30, heartbeatSeconds: 10, reclaimSeconds: 5, progressIntervalMs: 60000 },
    events: { enabled: false },
  }));
  // the workers start (and migrate) first; the clock starts when the tasks are queued
  const procs = Array.from({ length: processes }, () => startWorker(configFile));
  await Promise.all(procs.map((p) => p.ready));
  const db = new Client({ connectionString: url });
  await db.connect();
  const started = process.hrtime.bigint();
  await db.query(
    `INSERT INTO tasks (id, type, state, parameters, max_retries)
     SELECT gen_random_uuid(), 'batch', 'pending', '{"items":["x"]}'::jsonb, 0 FROM generate_series(1, $1)`,
    [TASKS],
  );
  let done = 0;
  while (done < TASKS) {
    await new Promise((r) => setTimeout(r, 20));
    done = (await db.query("SELECT count(*)::int AS n FROM tasks WHERE state = 'completed'")).rows[0].n;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const dupes = (await db.query("SELECT count(*)::int AS n FROM tasks WHERE attempts <> 1")).rows[0].n;
  for (const p of procs) p.child.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.exited));
  await db.end();
  fs.rmSync(dir, { recursive: true, force: true });
  return { seconds, transitionsPerSecond: (2 * TASKS) / seconds, tasksRunTwice: dupes };
}

(async () => {
  if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing; run npm run build`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-bench-"));
  const { startPostgres } = loadPostgresHelper(tmp);
  const pg = await startPostgres();
  try {
    console.log(`task queue: ${TASKS} tasks, 2 transitions each (pending->running->completed); goal ${GOAL} transitions/s`);
    const series = [
      ["worker processes, one task at a time each", (w) => [w, 1]],
      ["workers in one process (concurrency), claims batched", (w) => [1, w]],
    ];
    for (const [label, shape] of series) {
      console.log(`  ${label}:`);
      for (const w of [1, 2, 8]) {
        const [processes, concurrency] = shape(w);
        const r = await run(pg, processes, concurrency);
        const ratio = r.transitionsPerSecond / GOAL;
        console.log(`    ${String(w).padStart(2)} worker(s): ${r.transitionsPerSecond.toFixed(0).padStart(6)} transitions/s  (${r.seconds.toFixed(2)} s; ${(ratio * 100).toFixed(0)}% of the goal; tasks run twice: ${r.tasksRunTwice})`);
      }
    }
    console.log(`  (machine: ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")})`);
  } finally {
    await pg.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
