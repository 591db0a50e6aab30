import { dev, prod } from "../../../stacks/environments";
import { synthEnvironment } from "../../../stacks/synth";
import { findAll, findOne } from "../../support/objects";

describe("progressive delivery", () => {
  const prodOut = synthEnvironment(prod);
  const devOut = synthEnvironment(dev);

  it("installs Argo Rollouts pinned to the CRDs' version", () => {
    const app = findOne(prodOut.objects, "Application", "argo-rollouts", "argocd");
    expect(app.spec.source).toMatchObject({ chart: "argo-rollouts", targetRevision: "2.39.0" });
    expect(app.spec.source.helm.valuesObject.controller).toMatchObject({ replicas: 2, image: { tag: "v1.8.4" } });
  });

  it("releases a canary service by the tier's steps, through the mesh's subsets, with analysis from the first step", () => {
    const rollout = findOne(prodOut.objects, "Rollout", "order", "apps");
    const canary = rollout.spec.strategy.canary;
    expect(canary.steps).toEqual([
      { setWeight: 10 }, { pause: { duration: "5m" } },
      { setWeight: 25 }, { pause: { duration: "5m" } },
      { setWeight: 50 }, { pause: { duration: "10m" } },
    ]);
    expect(canary.trafficRouting.istio).toEqual({
      virtualService: { name: "order", routes: ["default"] },
      destinationRule: { name: "order", stableSubsetName: "stable", canarySubsetName: "canary" },
    });
    expect(canary.analysis).toEqual({ templates: [{ templateName: "order-slo" }], startingStep: 1 });
    expect(findOne(devOut.objects, "Rollout", "order", "apps").spec.strategy.canary.steps).toEqual([{ setWeight: 50 }, { pause: { duration: "1m" } }]);
  });

  it("starts the mesh's canary subset at 0% with subsets the Rollout labels itself", () => {
    const vs = findOne(prodOut.objects, "VirtualService", "order", "apps");
    const route = vs.spec.http.find((r: any) => r.name === "default").route;
    expect(route.map((r: any) => [r.destination.subset, r.weight])).toEqual([["stable", 100], ["canary", 0]]);
    const dr = findOne(prodOut.objects, "DestinationRule", "order", "apps");
    expect(dr.spec.subsets).toEqual([{ name: "stable", labels: {} }, { name: "canary", labels: {} }]);
  });

  it("rolls back on the service's own thresholds, measured in Prometheus", () => {
    const t = findOne(prodOut.objects, "AnalysisTemplate", "order-slo", "apps");
    const [success, latency] = t.spec.metrics;
    expect(success.successCondition).toBe("len(result) == 0 || result[0] >= 0.995");
    expect(latency.successCondition).toBe("len(result) == 0 || result[0] <= 0.4");
    expect(success.failureLimit).toBe(2);
    expect(success.provider.prometheus.query).toContain('http_requests_total{namespace="apps", service="order", code!~"5.."}');
    expect(success.provider.prometheus.address).toMatch(/^http:\/\/prometheus[-a-z]*\.monitoring\.svc\.cluster\.local:9090$/);
    expect(prodOut.platform.graph.outgoing("argo-rollouts").map((e) => e.to)).toContain("prometheus");
  });

  it("releases a blue-green service behind a preview Service, promoted after analysis", () => {
    const bg = findOne(prodOut.objects, "Rollout", "payment", "apps").spec.strategy.blueGreen;
    expect(bg).toMatchObject({ activeService: "payment", previewService: "payment-preview", prePromotionAnalysis: { templates: [{ templateName: "payment-slo" }] } });
    const preview = findOne(prodOut.objects, "Service", "payment-preview", "apps");
    expect(preview.spec.selector).toEqual(findOne(prodOut.objects, "Service", "payment", "apps").spec.selector);
  });

  it("keeps plain rolling updates for services that choose nothing, and scales order by HPA in prod", () => {
    findOne(prodOut.objects, "Deployment", "catalog", "apps");
    expect(findAll(prodOut.objects, "Deployment", "order")).toEqual([]);
    const hpa = findOne(prodOut.objects, "HorizontalPodAutoscaler", "order", "apps");
    expect(hpa.spec).toMatchObject({ scaleTargetRef: { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "order" }, minReplicas: 4, maxReplicas: 12 });
  });

  it("refuses a bad threshold, naming it", () => {
    expect(() => synthEnvironment(dev, { customize: (p) => void p.addService({ name: "x", image: "ghcr.io/a/x:1.0.0", delivery: { strategy: "canary", minSuccessRate: 1.5 } }) })).toThrow(
      "delivery.minSuccessRate must be in (0, 1] (got 1.5)",
    );
  });

  it("lets Argo CD ignore what Rollouts moves at run time", () => {
    const app = findOne(prodOut.objects, "Application", "stratum-services", "argocd");
    expect(app.spec.ignoreDifferences).toContainEqual({ group: "networking.istio.io", kind: "VirtualService", jqPathExpressions: [".spec.http[].route[].weight"] });
    expect(app.spec.syncPolicy.syncOptions).toContain("RespectIgnoreDifferences=true");
  });
});
