import { ageDays, familyProblems, ilmPolicy, IndexFamily, LifecycleSettings, slmPolicy } from "../../../components/elasticsearch/lifecycle";
import { heapMiB } from "../../../components/elasticsearch/node-sets";

const logs: IndexFamily = { name: "logs", indexPatterns: ["logs-k8s-*"], retentionDays: 14, indexTemplate: true };
const settings: LifecycleSettings = { warmAfterDays: 3, warmTier: true, shards: 1, replicas: 1 };

describe("index lifecycle", () => {
  it("goes hot -> warm -> delete with the family's retention", () => {
    const p = ilmPolicy(logs, settings).policy;
    expect(Object.keys(p.phases)).toEqual(["hot", "warm", "delete"]);
    expect(p.phases.warm.min_age).toBe("3d");
    expect(p.phases.delete.min_age).toBe("14d");
    expect(p.phases.hot.actions.rollover).toBeUndefined();
  });

  it("rolls over only families that write through an alias or data stream", () => {
    const p = ilmPolicy({ ...logs, rollover: { maxAge: "1d", maxPrimaryShardSize: "50gb" } }, settings).policy;
    expect(p.phases.hot.actions.rollover).toEqual({ max_age: "1d", max_primary_shard_size: "50gb" });
  });

  it("leaves out the warm phase without warm nodes, or when data is deleted before it would move", () => {
    expect(Object.keys(ilmPolicy(logs, { ...settings, warmTier: false }).policy.phases)).toEqual(["hot", "delete"]);
    expect(Object.keys(ilmPolicy({ ...logs, retentionDays: 3 }, settings).policy.phases)).toEqual(["hot", "delete"]);
  });

  it("keeps snapshots for the retention, at least three of them", () => {
    expect(slmPolicy({ repository: "stratum-backups", bucket: "b", basePath: "p", schedule: "0 30 1 * * ?", retentionDays: 7 })).toMatchObject({
      retention: { expire_after: "7d", min_count: 3 },
      config: { indices: ["*"], include_global_state: true },
    });
  });

  it("reads ages in hours, days and weeks, and refuses others with the field", () => {
    expect([ageDays("12h", "x"), ageDays("3d", "x"), ageDays("2w", "x")]).toEqual([1, 3, 14]);
    expect(() => ageDays("1m", "sizing.elasticsearch.warmAfter")).toThrow('sizing.elasticsearch.warmAfter must be an age such as 12h, 3d or 2w (got "1m")');
  });

  it("refuses a family that would match every index", () => {
    expect(familyProblems({ ...logs, indexPatterns: ["*"] })).toEqual(['index family logs: pattern "*" must be a lower-case index pattern narrower than *']);
  });

  it("sizes the heap as a share of the memory limit", () => {
    expect(heapMiB("8Gi", 50)).toBe(4096);
    expect(heapMiB("3Gi", 40)).toBe(1228);
  });
});
