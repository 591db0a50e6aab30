import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TracingComponent } from "../../../components/tracing";
import { renderYaml } from "../../../stacks/synth";
import { dev } from "../../../stacks/environments/dev";
import { prod } from "../../../stacks/environments/prod";
import { fakeElasticsearch, synthChart, testPlatform } from "./support";

const validator = path.resolve(__dirname, "../../../../shared/tools/validate-manifests.mjs");

describe("tracing custom resources", () => {
  it.each([
    ["dev", false],
    ["prod", true],
  ])("validate against the operators' CRDs (%s)", (name, withEs) => {
    const platform = testPlatform(name === "prod" ? prod : dev);
    const es = withEs ? fakeElasticsearch(platform) : undefined;
    const tracing = platform.add((scope, ctx) => new TracingComponent(scope, "Tracing", ctx, { elasticsearch: es }));
    const objects = synthChart(platform, tracing);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-tracing-"));
    try {
      fs.writeFileSync(path.join(dir, "tracing.k8s.yaml"), renderYaml(objects as any));
      const out = execFileSync(process.execPath, [validator, dir], { encoding: "utf8" });
      expect(out).toMatch(/SUMMARY objects=\d+ valid=\d+ invalid=0 unknown_kinds=0/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
