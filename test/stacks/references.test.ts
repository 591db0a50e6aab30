import { ENVIRONMENTS } from "../../stacks/environments";
import { synthEnvironment } from "../../stacks/synth";
import { K8sObject } from "../../policies/types";
import { danglingReferences } from "../support/references";

describe.each(Object.keys(ENVIRONMENTS))("references in the %s platform", (env) => {
  const result = synthEnvironment(ENVIRONMENTS[env]);

  it("all resolve: selectors, ports, ServiceAccounts, Secrets, scale targets, bindings, monitors and mesh hosts", () => {
    expect(danglingReferences(result.objects, result.platform.graph.nodes)).toEqual([]);
  });
});

describe("the reference check", () => {
  const result = synthEnvironment(ENVIRONMENTS.dev);
  const nodes = result.platform.graph.nodes;
  const clone = (): Array<K8sObject & Record<string, any>> => JSON.parse(JSON.stringify(result.objects));
  const one = (objects: Array<K8sObject & Record<string, any>>, kind: string, name: string) => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
    if (!o) throw new Error(`no ${kind} ${name}`);
    return o;
  };

  it("finds a Service whose named target port the pods do not serve", () => {
    const objects = clone();
    const svc = one(objects, "Service", "gateway");
    svc.spec.ports[0].targetPort = "no-such-port";
    expect(danglingReferences(objects, nodes)).toEqual([expect.stringContaining("Service gateway/gateway: port")]);
  });

  it("finds a workload whose selector misses its own pods, and the Service and PDB that then select nothing", () => {
    const objects = clone();
    const d = one(objects, "Deployment", "gateway");
    d.spec.template.metadata.labels = { ...d.spec.template.metadata.labels, "app.kubernetes.io/name": "renamed" };
    const found = danglingReferences(objects, nodes).join("\n");
    expect(found).toContain("Deployment gateway/gateway: spec.selector does not match");
    expect(found).toContain("Service gateway/gateway: selector");
    expect(found).toContain("PodDisruptionBudget gateway/gateway: selector matches no pods");
  });

  it("finds a Secret that nothing makes, a missing ServiceAccount and an HPA next to spec.replicas", () => {
    const objects = clone();
    const d = one(objects, "Deployment", "gateway");
    d.spec.template.spec.serviceAccountName = "ghost";
    d.spec.replicas = 2;
    d.spec.template.spec.containers[0].env = [...(d.spec.template.spec.containers[0].env ?? []), { name: "X", valueFrom: { secretKeyRef: { name: "ghost-secret", key: "k" } } }];
    const found = danglingReferences(objects, nodes).join("\n");
    expect(found).toContain("ServiceAccount ghost does not exist");
    expect(found).toContain("reads Secret ghost-secret, which nothing makes");
    expect(found).toContain("sets spec.replicas, which the HPA owns");
  });

  it("finds a VirtualService subset that no DestinationRule defines and a route to a missing Service", () => {
    const objects = clone();
    const vs = objects.find((o) => o.kind === "VirtualService" && (o.spec.http ?? []).some((h: any) => (h.route ?? []).length > 0));
    if (!vs) throw new Error("no VirtualService with routes");
    const route = vs.spec.http.find((h: any) => (h.route ?? []).length > 0).route[0];
    route.destination = { ...route.destination, subset: "ghost" };
    const missing = JSON.parse(JSON.stringify(vs));
    missing.metadata.name = "missing-host";
    missing.spec.http[0].route = [{ destination: { host: "ghost.nowhere.svc.cluster.local" } }];
    const found = danglingReferences([...objects, missing], nodes).join("\n");
    expect(found).toContain("subset ghost of");
    expect(found).toContain("routes to ghost.nowhere.svc.cluster.local, which is no Service");
  });

  it("finds a NetworkPolicy and a PodDisruptionBudget that cannot take effect", () => {
    const objects = clone();
    const np = objects.find((o) => o.kind === "NetworkPolicy" && Object.keys(o.spec.podSelector?.matchLabels ?? {}).length > 0);
    if (!np) throw new Error("no NetworkPolicy with a pod selector");
    np.spec.podSelector = { matchLabels: { "app.kubernetes.io/name": "typo" } };
    const pdb = one(objects, "PodDisruptionBudget", "gateway");
    pdb.spec = { selector: pdb.spec.selector, minAvailable: 100 };
    const found = danglingReferences(objects, nodes).join("\n");
    expect(found).toContain(`NetworkPolicy ${np.metadata.namespace}/${np.metadata.name}: selector`);
    expect(found).toContain("PodDisruptionBudget gateway/gateway: minAvailable 100");
  });
});
