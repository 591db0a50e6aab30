import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { formatFinding, runPolicies } from "../../../policies/engine";
import { DEFAULT_RULES } from "../../../policies/rules";
import { renderYaml, sortObjects } from "../../../stacks/synth";
import { ENVIRONMENTS } from "../../../stacks/environments";
import { meshPlatform } from "./support";

const VALIDATOR = path.resolve(__dirname, "../../../../shared/tools/validate-manifests.mjs");
const outputs = Object.keys(ENVIRONMENTS).map((name) => ({
  name,
  objects: meshPlatform(ENVIRONMENTS[name], {}, (p, mesh) => {
    mesh.configureService("payment", { canary: { weight: 5 } });
    p.graph.addNode({ id: "kafka", kind: "external", cidrs: ["10.0.0.0/16"], ports: [{ name: "tls-kafka", port: 9096, protocol: "tls" }] });
    p.graph.connect("order", "kafka");
  }).objects,
}));

describe("the mesh output", () => {
  it.each(outputs.map((o) => [o.name, o.objects] as const))("passes every policy rule in %s", (_name, objects) => {
    expect(runPolicies(objects, DEFAULT_RULES).errors.map(formatFinding)).toEqual([]);
  });

  (fs.existsSync(VALIDATOR) ? it : it.skip)("validates against the Kubernetes 1.28 and Istio 1.24.6 schemas in every environment", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-mesh-"));
    try {
      for (const o of outputs) fs.writeFileSync(path.join(dir, `${o.name}.k8s.yaml`), renderYaml(sortObjects(o.objects)));
      const run = spawnSync(process.execPath, [VALIDATOR, dir], { cwd: path.resolve(__dirname, "../../.."), encoding: "utf8" });
      expect(run.stdout).toMatch(/invalid=0 unknown_kinds=0/);
      expect(run.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
