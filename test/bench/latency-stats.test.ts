// The statistics behind the gateway benchmark's added-p99 figure: percentiles from the log histogram, and the
// bootstrap interval of a difference of pooled percentiles.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { toBins, pooledPercentile, pairedPercentileDifference, bin, binValue } = require("../../bench/latency-stats");

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

/** Latencies in µs, log-normal around `medianUs`, one slice of `n`. */
function slice(next: () => number, n: number, medianUs: number, shiftUs = 0): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    out[i] = medianUs * Math.exp(0.8 * z) + shiftUs;
  }
  return out;
}

function exactPercentileMs(values: Float64Array[], p: number): number {
  const all = Float64Array.from(values.flatMap((v) => [...v])).sort();
  return all[Math.ceil((p / 100) * all.length) - 1] / 1e3;
}

describe("latency statistics", () => {
  it("puts every latency in a bin whose middle is within 0.5% of it", () => {
    for (const us of [1.5, 7, 99.9, 850, 12_345, 2_000_000]) {
      expect(Math.abs(binValue(bin(us)) - us) / us).toBeLessThan(0.005);
    }
  });

  it("gives pooled percentiles within 0.5% of the exact ones", () => {
    const next = seeded(7);
    const slices = Array.from({ length: 40 }, () => slice(next, 300, 800));
    for (const p of [50, 90, 99, 99.9]) {
      const exact = exactPercentileMs(slices, p);
      const binned = pooledPercentile(slices.map(toBins), p);
      expect(Math.abs(binned - exact) / exact).toBeLessThan(0.005);
    }
  });

  it("finds no difference, with an interval of zero width, between a target and itself", () => {
    const next = seeded(3);
    const a = Array.from({ length: 60 }, () => toBins(slice(next, 200, 600)));
    const d = pairedPercentileDifference(a, a, { resamples: 200 });
    expect(d).toMatchObject({ estimate: 0, low: 0, high: 0, level: 0.9 });
  });

  it("recovers a shift that every request pays, inside a narrow interval", () => {
    const next = seeded(11);
    const base = Array.from({ length: 120 }, () => slice(next, 300, 700));
    const a = base.map(toBins);
    const b = base.map((s) => toBins(s.map((us) => us + 2000)));
    const d = pairedPercentileDifference(a, b, { resamples: 300 });
    expect(d.estimate).toBeGreaterThan(1.95);
    expect(d.estimate).toBeLessThan(2.05);
    expect(d.low).toBeLessThanOrEqual(d.estimate);
    expect(d.high).toBeGreaterThanOrEqual(d.estimate);
    expect(d.high - d.low).toBeLessThan(0.2);
  });

  it("widens the interval when the tail comes in spells, and keeps it deterministic for a seed", () => {
    const next = seeded(5);
    const a = Array.from({ length: 120 }, () => toBins(slice(next, 300, 700)));
    // b is a with a 20 ms stall in every slice of one spell of 15 pairs: the pooled p99 moves, but only one spell says so
    const b = Array.from({ length: 120 }, (_, i) => {
      const s = slice(next, 300, 700);
      if (i >= 40 && i < 55) for (let k = 0; k < 12; k++) s[k] = 20_000;
      return toBins(s);
    });
    const d = pairedPercentileDifference(a, b, { resamples: 400, seed: 9 });
    expect(d.high - d.low).toBeGreaterThan(1);
    expect(d.low).toBeLessThan(d.estimate);
    expect(pairedPercentileDifference(a, b, { resamples: 400, seed: 9 })).toEqual(d);
  });

  it("refuses slices that do not pair up", () => {
    expect(() => pairedPercentileDifference([new Uint16Array(3)], [])).toThrow(/same number of slices/);
  });
});
