import { tailSamplingProcessor } from "../../../components/tracing/sampling";

describe("tailSamplingProcessor", () => {
  it("keeps errors, slow traces and a percentage of the rest", () => {
    const p = tailSamplingProcessor({ percentage: 12.5, slowerThanMs: 750, decisionWaitSeconds: 5, maxTracesInMemory: 20000 }) as any;
    expect(p.decision_wait).toBe("5s");
    expect(p.num_traces).toBe(20000);
    expect(p.policies.map((x: any) => x.type)).toEqual(["status_code", "latency", "probabilistic"]);
    expect(p.policies[2].probabilistic.sampling_percentage).toBe(12.5);
    expect(p.policies[1].latency.threshold_ms).toBe(750);
  });

  it("refuses a percentage outside 0-100 and a non-positive latency, naming both", () => {
    expect(() => tailSamplingProcessor({ percentage: 101, slowerThanMs: 0 })).toThrow(
      "tail sampling: percentage must be 0-100 (got 101); slowerThanMs must be a positive integer (got 0)",
    );
  });
});
