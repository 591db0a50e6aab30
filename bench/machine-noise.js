// How often this machine pauses a running thread: one child process per core spins on the clock for a while and
// counts the gaps between two readings. On an idle, dedicated core the gaps stay in microseconds; a virtual machine
// whose host deschedules its vCPUs, or a busy neighbour, shows gaps of milliseconds. A latency percentile can only be
// resolved down to the pauses that hit the process being measured, so benchmarks print this beside their tails.
const { spawn } = require("node:child_process");
const os = require("node:os");

// performance.now() returns a double, so the loop allocates nothing and the child's GC never runs
const SPIN = `
const { performance } = require("node:perf_hooks");
const ms = Number(process.argv[1]);
const gaps = [];
const end = performance.now() + ms;
let last = performance.now();
for (;;) {
  const t = performance.now();
  if (t - last > 1) gaps.push(t - last);
  last = t;
  if (t > end) break;
}
process.stdout.write(JSON.stringify(gaps));
`;

function spinner(ms) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["-e", SPIN, String(ms)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`noise probe exited with ${code}`))));
  });
}

/**
 * Spins one thread per core for `seconds` and returns the pauses longer than 1 ms: how many per core and second, the
 * longest, and the milliseconds lost per second of each core.
 */
async function machineNoise(seconds = 3) {
  const cores = os.cpus().length;
  const perCore = await Promise.all(Array.from({ length: cores }, () => spinner(seconds * 1000)));
  const gaps = perCore.flat();
  const per = (v) => v / (cores * seconds);
  return {
    cores,
    seconds,
    pausesPerCoreSecond: per(gaps.length),
    over5msPerCoreSecond: per(gaps.filter((g) => g > 5).length),
    longestMs: gaps.length ? Math.max(...gaps) : 0,
    lostMsPerCoreSecond: per(gaps.reduce((a, b) => a + b, 0)),
  };
}

function describeNoise(n) {
  return `${n.pausesPerCoreSecond.toFixed(1)} pauses > 1 ms per core-second (${n.over5msPerCoreSecond.toFixed(1)} over 5 ms, longest ${n.longestMs.toFixed(1)} ms, ${n.lostMsPerCoreSecond.toFixed(1)} ms lost per core-second), with one spinning thread per core and nothing else running`;
}

module.exports = { machineNoise, describeNoise };

if (require.main === module) {
  machineNoise(Number(process.argv[2] ?? 5)).then((n) => console.log(describeNoise(n)));
}
