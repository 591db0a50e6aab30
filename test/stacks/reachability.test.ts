import { ENVIRONMENTS } from "../../stacks/environments";
import { synthEnvironment } from "../../stacks/synth";
import { networkReachability } from "../support/reachability";

describe.each(Object.keys(ENVIRONMENTS))("zero trust in %s", (name) => {
  const { platform, objects } = synthEnvironment(ENVIRONMENTS[name]);
  const { allowed, declared } = networkReachability(platform.graph, objects);

  it("NetworkPolicies allow every declared edge", () => {
    expect(declared.filter((d) => !allowed.includes(d))).toEqual([]);
  });

  it("NetworkPolicies allow nothing that the graph does not declare", () => {
    expect(allowed.filter((a) => !declared.includes(a))).toEqual([]);
  });

  it("covers a meaningful graph", () => {
    expect(declared.length).toBeGreaterThan(10);
  });
});
