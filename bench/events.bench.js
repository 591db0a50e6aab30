// `npm run bench:events`: validated events per second through the event processor, against a bare HTTP handler that
// only parses JSON, as a ratio, for single and bulk delivery (100 events per request).
//  - the processor is the shipped bundle (lib/assets/event-processor) with a real PostgreSQL (throwaway cluster) and
//    a stand-in Dapr sidecar on loopback that accepts every publish; each event has a fresh id, so every one is
//    validated, stored and forwarded (not answered as a duplicate);
//  - the bare handler reads the body, JSON.parse-s it and answers SUCCESS (per entry for bulk);
//  - two more figures take the processor apart: the event store alone (the processor's EventStore appending batches,
//    no HTTP), which bounds what the processor can reach here, and validation alone (envelope + ajv, in-process).
// Printed with the goal from the issue (bulk >= 50% of the bare handler's events/s); nothing passes or fails on time.
// BENCH_SECONDS (default 5), BENCH_CONNECTIONS (default 16).
const { spawn } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");
const autocannon = require("autocannon");
const esbuild = require("esbuild");

const root = path.resolve(__dirname, "..");
const BUNDLE = path.join(root, "lib", "assets", "event-processor", "index.js");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const BULK = 100;
const GOAL = 0.5;

const BARE = `
const http = require("node:http");
const s = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let out;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      out = Array.isArray(body.entries) ? { statuses: body.entries.map((e) => ({ entryId: e.entryId, status: "SUCCESS" })) } : { status: "SUCCESS" };
    } catch { out = { status: "DROP" }; }
    const text = JSON.stringify(out);
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  });
});
s.keepAliveTimeout = 65000;
s.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: s.address().port })));
`;

function buildTs(dir, entry, name) {
  const out = path.join(dir, `${name}.js`);
  esbuild.buildSync({ entryPoints: [entry], bundle: true, platform: "node", format: "cjs", outfile: out, external: ["pg-native"], logLevel: "warning" });
  return require(out);
}

function fakeDapr() {
  const server = http.createServer((req, res) => { req.resume(); req.on("end", () => { res.writeHead(req.url.includes("/bulk/") ? 200 : 204); res.end(); }); });
  server.keepAliveTimeout = 65000;
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function startProcess(args, env, ready) {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      for (const line of out.split("\n")) {
        try { const j = JSON.parse(line); const port = ready(j); if (port) return resolve({ child, port }); } catch { /* partial line */ }
      }
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${out.slice(-2000)}`)));
  });
}

function load(port, pathName, makeBody) {
  return new Promise((resolve, reject) => {
    autocannon({
      url: `http://127.0.0.1:${port}`,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [{ method: "POST", path: pathName, headers: { "content-type": "application/json" }, setupRequest: (req) => ({ ...req, body: makeBody() }) }],
    }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

async function main() {
  if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing; run npm run build`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-bench-events-"));
  const { startPostgres } = buildTs(dir, path.join(root, "test", "support", "postgres.ts"), "postgres-helper");
  const support = buildTs(dir, path.join(root, "services", "event-processor", "test", "support.ts"), "support");
  const core = buildTs(dir, path.join(__dirname, "events-validate.ts"), "parts");
  const template = support.validEvent("order.created");
  const event = () => ({ ...template, id: crypto.randomUUID() });
  const single = () => JSON.stringify(event());
  const bulk = () => JSON.stringify({ id: crypto.randomUUID(), entries: Array.from({ length: BULK }, (_, i) => ({ entryId: String(i), event: event(), contentType: "application/cloudevents+json" })) });

  const pg = await startPostgres();
  const dapr = await fakeDapr();
  const children = [];
  try {
    fs.writeFileSync(path.join(dir, "catalog.json"), JSON.stringify(support.bundle));
    fs.writeFileSync(path.join(dir, "config.yaml"), `port: 0\nmetricsPort: 0\nhost: 127.0.0.1\ncatalogFile: ${path.join(dir, "catalog.json")}\npoolSize: 16\nlimits: { maxInFlight: 256 }\n`);
    const processor = await startProcess([BUNDLE, "--config", path.join(dir, "config.yaml")], { DATABASE_URL: await pg.createDatabase(), DAPR_HTTP_PORT: String(dapr.address().port) }, (j) => j.msg === "event processor listening" && j.port);
    children.push(processor.child);
    const bare = await startProcess(["-e", BARE], {}, (j) => j.port);
    children.push(bare.child);

    const rows = [];
    for (const [mode, pathName, body, perRequest] of [["single", "/events/order.created", single, 1], ["bulk", "/bulk/order.created", bulk, BULK]]) {
      const b = await load(bare.port, pathName, body);
      const p = await load(processor.port, pathName, body);
      // only answered deliveries count: a 503 (over the processor's limits) is a delivery Dapr must send again
      const bareRate = (b["2xx"] * perRequest) / b.duration;
      const procRate = (p["2xx"] * perRequest) / p.duration;
      rows.push({ mode, bare: bareRate, processor: procRate, ratio: procRate / bareRate, p99: p.latency.p99, errors: p.errors + p.non2xx });
    }
    const n = 20000;
    const { perSecond: inProcess, invalid } = core.validationRate(support.bundle, Array.from({ length: n }, event));
    const storeOnly = await core.storeRate(await pg.createDatabase(), event, BULK, CONNECTIONS, SECONDS);
    console.log(`\nevent processor, ${SECONDS}s per run, ${CONNECTIONS} connections, bulk of ${BULK}, ${os.cpus().length} CPUs`);
    console.log("mode     bare events/s   processor events/s   ratio   processor p99 ms   errors");
    for (const r of rows) {
      console.log(`${r.mode.padEnd(8)} ${r.bare.toFixed(0).padStart(14)} ${r.processor.toFixed(0).padStart(20)} ${(r.ratio * 100).toFixed(1).padStart(6)}% ${String(r.p99).padStart(18)} ${String(r.errors).padStart(8)}`);
    }
    const bulkRow = rows.find((r) => r.mode === "bulk");
    console.log(`\ngoal: bulk validation >= ${GOAL * 100}% of the bare handler's events/s -> ${(bulkRow.ratio * 100).toFixed(1)}% (${bulkRow.ratio >= GOAL ? "met" : "not met"} on this machine)`);
    console.log(`event store only (batches of ${BULK} in one transaction each, ${CONNECTIONS} at a time, no HTTP, no validation): ${storeOnly.toFixed(0)} events/s = ${((storeOnly / bulkRow.bare) * 100).toFixed(1)}% of the bare handler, the ceiling that storing every event in PostgreSQL puts on this machine`);
    console.log(`in-process validation only (envelope + schema, compiled and warmed up; no HTTP, no database): ${inProcess.toFixed(0)} events/s (${invalid} invalid of ${n})`);
  } finally {
    await Promise.all(children.map((c) => new Promise((r) => { if (c.exitCode !== null) return r(); c.once("exit", r); c.kill("SIGTERM"); })));
    dapr.close();
    await pg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
