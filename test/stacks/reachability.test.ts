import { ENVIRONMENTS } from "../../stacks/environments";
import { synthEnvironment } from "../../stacks/synth";
import { fullReachability, networkReachability } from "../support/reachability";

describe.each(Object.keys(ENVIRONMENTS))("zero trust in %s", (name) => {
  const { platform, objects } = synthEnvironment(ENVIRONMENTS[name]);
  const net = networkReachability(platform.graph, objects);
  const full = fullReachability(platform.graph, objects);

  it("NetworkPolicies allow every declared edge", () => {
    expect(net.declared.filter((d) => !net.allowed.includes(d))).toEqual([]);
  });

  it("NetworkPolicies allow nothing that the graph does not declare", () => {
    expect(net.allowed.filter((a) => !net.declared.includes(a))).toEqual([]);
  });

  it("AuthorizationPolicies admit every declared edge into the mesh", () => {
    expect(full.refusedByMesh).toEqual([]);
  });

  it("NetworkPolicies and AuthorizationPolicies together allow exactly the declared edges", () => {
    expect(full.allowed).toEqual(full.declared);
  });

  it("covers a meaningful graph", () => {
    expect(net.declared.length).toBeGreaterThan(50);
  });
});
