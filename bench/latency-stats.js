// Tail-latency statistics for benchmarks that alternate two targets in short slices.
//
// A p99 taken from one run of a few seconds moves by milliseconds from run to run on a shared machine, so a single
// difference of two p99s cannot tell whether one target adds less than a millisecond. Here each slice's latencies are
// kept as bins of a log histogram (0.5% wide, so a percentile is exact to 0.5%), and the difference of the pooled
// p99s is given with a moving-block bootstrap interval: blocks of consecutive slice pairs are drawn with replacement,
// so that the machine's slow spells, which last longer than one slice, stay together in the resamples.

const GROWTH = 1.005; // each bin is 0.5% wider than the one before
const LOG_GROWTH = Math.log(GROWTH);
const MAX_US = 60e6; // a minute: no request in a benchmark waits longer
const BINS = Math.ceil(Math.log(MAX_US) / LOG_GROWTH) + 1;

/** The bin of a latency in microseconds (values under 1 µs share bin 0). */
function bin(us) {
  if (!(us > 1)) return 0;
  return Math.min(BINS - 1, Math.floor(Math.log(us) / LOG_GROWTH));
}

/** The geometric middle of a bin, in microseconds. */
function binValue(b) {
  return Math.pow(GROWTH, b + 0.5);
}

/** One slice's latencies (µs) as bin numbers. */
function toBins(latencies) {
  const out = new Uint16Array(latencies.length);
  for (let i = 0; i < latencies.length; i++) out[i] = bin(latencies[i]);
  return out;
}

/** The p-th percentile (0-100], in milliseconds, of the slices' bins counted into `counts` (cleared first). */
function pooledPercentile(slices, p, counts = new Uint32Array(BINS)) {
  counts.fill(0);
  let n = 0;
  for (const s of slices) {
    for (let i = 0; i < s.length; i++) counts[s[i]]++;
    n += s.length;
  }
  if (n === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  let seen = 0;
  for (let b = 0; b < BINS; b++) {
    seen += counts[b];
    if (seen >= rank) return binValue(b) / 1e3;
  }
  return binValue(BINS - 1) / 1e3;
}

/** A small seeded generator (mulberry32), so that the same run prints the same interval. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The difference `pooled pN of b - pooled pN of a` (ms) over paired slices (a[i] and b[i] ran back to back), with a
 * moving-block bootstrap interval at `level` (two-sided). `blockLength` is in pairs.
 */
function pairedPercentileDifference(a, b, { p = 99, blockLength = 10, resamples = 1000, level = 0.9, seed = 1 } = {}) {
  if (a.length !== b.length || a.length === 0) throw new Error(`need the same number of slices of each target, got ${a.length} and ${b.length}`);
  const counts = new Uint32Array(BINS);
  const estimate = pooledPercentile(b, p, counts) - pooledPercentile(a, p, counts);
  const pairs = a.length;
  const length = Math.max(1, Math.min(blockLength, pairs));
  const starts = pairs - length + 1;
  const blocks = Math.ceil(pairs / length);
  const next = random(seed);
  const diffs = new Float64Array(resamples);
  const ra = [];
  const rb = [];
  for (let r = 0; r < resamples; r++) {
    ra.length = 0;
    rb.length = 0;
    for (let k = 0; k < blocks; k++) {
      const start = Math.floor(next() * starts);
      for (let i = start; i < start + length; i++) {
        ra.push(a[i]);
        rb.push(b[i]);
      }
    }
    diffs[r] = pooledPercentile(rb, p, counts) - pooledPercentile(ra, p, counts);
  }
  diffs.sort();
  const tail = (1 - level) / 2;
  const at = (q) => diffs[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))];
  return { estimate, low: at(tail), high: at(1 - tail), level };
}

module.exports = { toBins, pooledPercentile, pairedPercentileDifference, bin, binValue };
