import { INGRESS_GATEWAY } from "../../../components/mesh";
import { dev } from "../../../stacks/environments";
import { Platform } from "../../../stacks/platform";
import { findAll, findOne } from "../../support/objects";
import { allowedCalls, expectedCalls, meshPlatform } from "./support";

/** Adds an operator with a webhook the API server calls, in a namespace of its own. */
function addWebhookOperator(p: Platform): void {
  p.ensureNamespace({ name: "operators", component: "operators" });
  p.graph.addNode({
    id: "operator",
    kind: "component",
    namespace: "operators",
    serviceAccount: "operator",
    selector: { "app.kubernetes.io/name": "operator" },
    ports: [{ name: "https-webhook", port: 443, targetPort: 9443, protocol: "tls" }, { name: "http-metrics", port: 8080, protocol: "http", metrics: true }],
    scope: p.namespaces,
  });
  p.graph.connect("kube-apiserver", "operator", ["https-webhook"]);
  p.graph.connect("operator", "kube-apiserver");
  p.graph.connect("order", "operator", ["https-webhook"]);
}

describe("graph-derived authorization", () => {
  const { platform, mesh, objects } = meshPlatform(dev, {}, (p) => addWebhookOperator(p));

  it("puts an empty allow-nothing policy in every meshed namespace", () => {
    for (const ns of mesh.meshedNamespaces) {
      const deny = findOne(objects, "AuthorizationPolicy", "allow-nothing", ns);
      expect(deny.spec).toEqual({});
    }
    expect(findAll(objects, "AuthorizationPolicy", "allow-nothing").map((p) => p.metadata.namespace).sort()).toEqual(mesh.meshedNamespaces);
  });

  it("allows exactly the declared edges between meshed workloads, by ServiceAccount principal and port", () => {
    const expected = expectedCalls(platform, mesh.meshedNamespaces);
    expect(expected).toContain("cluster.local/ns/apps/sa/order -> apps/app.kubernetes.io/instance=payment,app.kubernetes.io/name=payment:8080");
    expect(expected).toContain(`cluster.local/ns/istio-ingress/sa/${INGRESS_GATEWAY} -> gateway/app.kubernetes.io/name=gateway:8080`);
    expect(allowedCalls(objects)).toEqual(expected);
  });

  it("writes one rule per edge with the caller's principal", () => {
    const payment = findOne(objects, "AuthorizationPolicy", "allow-payment", "apps");
    expect(payment.spec).toEqual({
      action: "ALLOW",
      selector: { matchLabels: { "app.kubernetes.io/instance": "payment", "app.kubernetes.io/name": "payment" } },
      rules: [
        { from: [{ source: { principals: ["cluster.local/ns/gateway/sa/gateway"] } }], to: [{ operation: { ports: ["8080"] } }] },
        { from: [{ source: { principals: ["cluster.local/ns/apps/sa/order"] } }], to: [{ operation: { ports: ["8080"] } }] },
      ],
    });
  });

  it("admits a caller outside the mesh by its CIDRs only, and accepts plaintext on exactly that port", () => {
    const policy = findOne(objects, "AuthorizationPolicy", "allow-operator", "operators");
    expect(policy.spec.rules).toContainEqual({ from: [{ source: { ipBlocks: dev.network.apiServer.cidrs } }], to: [{ operation: { ports: ["9443"] } }] });
    const exception = findOne(objects, "PeerAuthentication", "plaintext-operator", "operators");
    expect(exception.spec).toEqual({
      selector: { matchLabels: { "app.kubernetes.io/name": "operator" } },
      mtls: { mode: "STRICT" },
      portLevelMtls: { "9443": { mode: "PERMISSIVE" } },
    });
    expect(exception.metadata.annotations?.["stratum.dev/mtls-exception"]).toMatch(/kube-apiserver/);
  });

  it("leaves the internet's edge to the token check, never to an address rule", () => {
    const gatewayPolicies = findAll(objects, "AuthorizationPolicy").filter((p: any) => p.metadata.namespace === "istio-ingress" && p.spec?.selector);
    expect(gatewayPolicies.map((p) => p.metadata.name)).toEqual(["edge-access"]);
    expect(JSON.stringify(gatewayPolicies)).not.toContain("0.0.0.0/0");
  });

  it("gives a namespace excluded from the mesh no sidecars and no mesh policies", () => {
    const o = meshPlatform(dev, { excludeNamespaces: ["operators"] }, (p) => addWebhookOperator(p));
    expect(o.mesh.meshedNamespaces).not.toContain("operators");
    expect(findAll(o.objects, "AuthorizationPolicy").filter((p) => p.metadata.namespace === "operators")).toEqual([]);
    expect(findOne(o.objects, "Namespace", "operators").metadata.labels?.["istio-injection"]).toBeUndefined();
    expect(o.platform.graph.outgoing("operator").map((e) => e.to)).toEqual(["kube-apiserver"]);
  });
});
