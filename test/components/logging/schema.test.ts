import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Testing } from "cdk8s";
import { LoggingComponent } from "../../../components/logging";
import { renderYaml } from "../../../stacks/synth";
import { prod } from "../../../stacks/environments/prod";
import { fakeElasticsearch, synthChart, testPlatform } from "../tracing/support";

const validator = path.resolve(__dirname, "../../../../shared/tools/validate-manifests.mjs");

describe("logging objects", () => {
  it("validate against the Kubernetes 1.28 and ArgoCD schemas", () => {
    const platform = testPlatform(prod);
    const es = fakeElasticsearch(platform);
    platform.graph.addNode({ id: "kibana", kind: "component", namespace: "data", serviceAccount: "kibana", selector: { app: "kibana" }, ports: [{ name: "https", port: 5601, protocol: "tls" }] });
    const logging = platform.add((scope, ctx) => new LoggingComponent(scope, "Logging", ctx, {
      elasticsearch: es,
      kibana: { graphNode: "kibana", namespace: "data", url: "https://kibana-kb-http.data.svc.cluster.local:5601", caCertificate: { name: "kibana-kb-http-certs-public", key: "ca.crt" }, username: "elastic", password: { name: "e", key: "elastic" } },
    }));
    const objects = [...synthChart(platform, logging), ...Testing.synth(platform.namespaces)];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-logging-"));
    try {
      fs.writeFileSync(path.join(dir, "logging.k8s.yaml"), renderYaml(objects as any));
      const out = execFileSync(process.execPath, [validator, dir], { encoding: "utf8" });
      expect(out).toMatch(/SUMMARY objects=\d+ valid=\d+ invalid=0 unknown_kinds=0/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
