// The latency phase of bench/gateway.bench.js: open-loop load at one rate, in short slices that rotate between the
// targets (A B C, then C B A, ...) on connections kept open throughout, so that every target meets the same spells of
// the machine. Returns each target's slices and the CPU time its process used per request.
const fs = require("node:fs");
const { Target, summarize } = require("./open-loop");
const { toBins, pairedPercentileDifference } = require("./latency-stats");

const TICK_MS = 10;
const BLOCK_SECONDS = 2;

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); undefined elsewhere. */
function cpuMs(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

function join(parts) {
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

/**
 * targets: [{ name, url, headers, pid }]. Sends `rate` requests/s to one target at a time for `slices` slices of
 * `sliceSeconds` each per target, after a second of warm-up each.
 */
async function rotate(targets, { rate, slices, sliceSeconds, connections }) {
  const open = targets.map((t) => new Target({ url: t.url, headers: t.headers, maxConnections: connections }));
  const out = targets.map((t) => ({ name: t.name, slices: [], errors: 0, cpuMs: 0 }));
  try {
    for (const t of open) await t.run(rate, 1);
    for (let i = 0; i < slices; i++) {
      const order = i % 2 === 0 ? targets.keys() : [...targets.keys()].reverse();
      for (const k of order) {
        const before = cpuMs(targets[k].pid);
        const r = await open[k].run(rate, sliceSeconds);
        const after = cpuMs(targets[k].pid);
        out[k].slices.push(r.latencies);
        out[k].errors += r.errors;
        out[k].cpuMs = before === undefined || after === undefined ? undefined : out[k].cpuMs + after - before;
      }
    }
  } finally {
    for (const t of open) t.close();
  }
  for (const o of out) {
    const requests = o.slices.reduce((n, s) => n + s.length, 0);
    const half = o.slices.length >> 1;
    o.summary = summarize(join(o.slices));
    o.halves = [summarize(join(o.slices.slice(0, half))).p99, summarize(join(o.slices.slice(half))).p99];
    o.cpuUs = o.cpuMs === undefined ? undefined : (o.cpuMs * 1000) / requests;
  }
  return out;
}

function quartiles(values) {
  const s = [...values].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
  return [at(0.25), at(0.5), at(0.75)];
}

/**
 * What `b` adds to `a`'s p99: the pooled difference with its bootstrap interval, and the median of the per-pair
 * differences with its quartiles. A bootstrap block spans about BLOCK_SECONDS of the run (each pair's round also holds
 * the other targets' slices), longer than the slow spells of the machine seen so far (up to about a second).
 */
function addedP99(a, b, { sliceSeconds, targets }) {
  const blockLength = Math.max(1, Math.round(BLOCK_SECONDS / (sliceSeconds * targets)));
  const { low, high, level } = pairedPercentileDifference(a.slices.map(toBins), b.slices.map(toBins), { p: 99, blockLength });
  const pooled = b.summary.p99 - a.summary.p99;
  const pairs = b.slices.map((s, i) => summarize(s).p99 - summarize(a.slices[i]).p99);
  const [q1, median, q3] = quartiles(pairs);
  return { pooled, low, high, level, halves: [0, 1].map((k) => b.halves[k] - a.halves[k]), paired: { q1, median, q3, count: pairs.length } };
}

module.exports = { rotate, addedP99, cpuMs };
