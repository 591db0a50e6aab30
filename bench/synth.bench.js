// `npm run bench`: wall time of whole synth processes (node start-up included), on the compiled JavaScript.
//  1. the standard three environments, as `npm run synth` runs them (without the build);
//  2. the same with 10, 100 and 500 generated business services per environment, and the cost per service.
// Figures and ratios are printed; nothing here passes or fails on time.
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function time(args) {
  const samples = [];
  let output = "";
  for (let i = 0; i < RUNS; i++) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-bench-"));
    const t0 = process.hrtime.bigint();
    output = execFileSync(process.execPath, [...args(out)], { cwd: root, encoding: "utf8" });
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    fs.rmSync(out, { recursive: true, force: true });
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], min: samples[0], max: samples[samples.length - 1], output };
}

const fmt = (ms) => `${ms.toFixed(0).padStart(6)} ms`;
console.log(`node ${process.version}, ${os.cpus().length} cores, ${RUNS} runs each (median, min-max)\n`);

const std = time((out) => ["lib/stacks/main.js", "--quiet", "--out", out]);
console.log(`synth dev+staging+prod (whole process)  ${fmt(std.median)}  (${std.min.toFixed(0)}-${std.max.toFixed(0)})  target < 2000 ms: ${(std.median / 2000).toFixed(2)}x of budget`);

const base = time((out) => ["bench/synth-generated.js", "0", out]);
console.log(`\ngenerated services per environment (3 environments, whole process)`);
console.log(`${"services".padStart(8)}  ${"wall".padStart(9)}  ${"objects".padStart(7)}  per service (over 0)`);
console.log(`${"0".padStart(8)}  ${fmt(base.median)}  ${String(JSON.parse(base.output).objects).padStart(7)}`);
let last;
for (const n of [10, 100, 500]) {
  const r = time((out) => ["bench/synth-generated.js", String(n), out]);
  const per = (r.median - base.median) / n;
  console.log(`${String(n).padStart(8)}  ${fmt(r.median)}  ${String(JSON.parse(r.output).objects).padStart(7)}  ${per.toFixed(2)} ms${last ? `  (x${(r.median / last.median).toFixed(2)} wall for x${(n / last.n).toFixed(0)} services)` : ""}`);
  if (n === 500) console.log(`\n500 services target < 10000 ms: ${(r.median / 10000).toFixed(2)}x of budget`);
  last = { n, median: r.median };
}
