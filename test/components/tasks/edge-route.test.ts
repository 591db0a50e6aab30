import { App, Testing } from "cdk8s";
import { GatewayComponent, GATEWAY_NODE } from "../../../components/gateway";
import { MeshComponent } from "../../../components/mesh";
import { TasksComponent } from "../../../components/tasks";
import { configProblems, parseConfigText } from "../../../services/gateway/src/config";
import type { GatewayConfigFile } from "../../../services/gateway/src/config-schema";
import { K8sObject } from "../../../policies/types";
import { dev, prod } from "../../../stacks/environments";
import { Environment } from "../../../stacks/environments/environment";
import { buildPlatform } from "../../../stacks/stratum";
import { Platform } from "../../../stacks/platform";
import { findOne } from "../../support/objects";

function gatewayConfig(platform: Platform) {
  const gateway = platform.find(GatewayComponent)!;
  const data = parseConfigText(gateway.configText, "gateway.yaml");
  expect(configProblems(data)).toEqual([]);
  return data as GatewayConfigFile;
}

describe("the task API at the edge", () => {
  it.each([["dev", dev], ["prod", prod]] as Array<[string, Environment]>)("routes /v1/tasks through the gateway in %s, admins only, with the upload limit and timeout", (_name, env) => {
    const platform = buildPlatform(env);
    const route = gatewayConfig(platform).routes.find((r) => r.path_prefix === "/v1/tasks")!;
    expect(route).toMatchObject({
      service: "task-orchestrator",
      upstream: "http://task-orchestrator.tasks.svc.cluster.local:8080",
      auth: { required: true, roles: ["admin"] },
      timeout: "5m",
      max_body_bytes: env.sizing.tasks.maxUploadBytes,
    });
    // the graph, and so the NetworkPolicies and AuthorizationPolicies, let the gateway call the orchestrator
    expect(platform.graph.edges.some((e) => e.from === GATEWAY_NODE && e.to === "task-orchestrator")).toBe(true);
  });

  it("gives the route its own timeout at the mesh's edge, matched on segment boundaries before the catch-all", () => {
    const platform = buildPlatform(dev);
    const mesh = platform.find(MeshComponent)!;
    const objects = Testing.synth(mesh) as Array<K8sObject & Record<string, any>>;
    const vs = findOne(objects, "VirtualService", "edge", "istio-ingress");
    const names = vs.spec.http.map((h: { name: string }) => h.name);
    expect(names[names.length - 1]).toBe("api-gateway");
    const tasks = vs.spec.http.find((h: { name: string }) => h.name === "api-gateway-v1-tasks");
    expect(tasks.timeout).toBe("5m");
    expect(tasks.match).toEqual([{ uri: { exact: "/v1/tasks" } }, { uri: { prefix: "/v1/tasks/" } }]);
    expect(vs.spec.http[vs.spec.http.length - 1].timeout).toBe("30s");
  });

  it("stays inside the cluster with route: false", () => {
    const app = new App({ outdir: "unused", recordConstructMetadata: false });
    const platform = new Platform(app, "dev", { environment: dev });
    platform.add((s, c) => new GatewayComponent(s, "Gateway", c));
    platform.add((s, c) => new TasksComponent(s, "Tasks", c, { route: false }));
    platform.finalize();
    expect(gatewayConfig(platform).routes.some((r) => r.path_prefix === "/v1/tasks")).toBe(false);
    expect(platform.graph.edges.some((e) => e.from === GATEWAY_NODE && e.to === "task-orchestrator")).toBe(false);
  });

  it("refuses a route without roles or with a timeout the gateway cannot honour, naming the prop and value", () => {
    const build = (route: object) => {
      const platform = new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), "dev", { environment: dev });
      platform.add((s, c) => new TasksComponent(s, "Tasks", c, { route }));
    };
    expect(() => build({ roles: [] })).toThrow("dev/Tasks: route.roles must name at least one role (got [])");
    expect(() => build({ timeout: "10m" })).toThrow("route.timeout must be between 1s and 5m, the gateway's limit for receiving a request (got 10m)");
    expect(() => build({ timeout: "soon" })).toThrow('route.timeout must be a duration such as 90s or 5m (got "soon")');
  });
});
