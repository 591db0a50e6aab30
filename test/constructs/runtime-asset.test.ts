import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Chart, Testing } from "cdk8s";
import { bundlePath, RuntimeAsset } from "../../constructs/runtime-asset";

function synth(service: string) {
  const chart = new Chart(Testing.app(), "test");
  const asset = new RuntimeAsset(chart, "Asset", { service, namespace: "apps" });
  const [cm] = Testing.synth(chart) as Array<{ metadata: { name: string; annotations: Record<string, string> }; data: Record<string, string>; binaryData: Record<string, string>; immutable: boolean }>;
  return { asset, cm };
}

/** Writes the ConfigMap's files the way the kubelet mounts them. */
function mount(cm: { data: Record<string, string>; binaryData: Record<string, string> }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-asset-"));
  for (const [k, v] of Object.entries(cm.data)) fs.writeFileSync(path.join(dir, k), v);
  for (const [k, v] of Object.entries(cm.binaryData)) fs.writeFileSync(path.join(dir, k), Buffer.from(v, "base64"));
  return dir;
}

describe("RuntimeAsset", () => {
  it.each(["gateway", "event-processor", "task-orchestrator"])("ships the %s bundle gzip-compressed, byte for byte, in an immutable ConfigMap named by its content", (service) => {
    const { asset, cm } = synth(service);
    expect(cm.immutable).toBe(true);
    expect(Object.keys(cm.data)).toEqual(["boot.js"]);
    const dir = mount(cm);
    try {
      const inflated = require("node:zlib").gunzipSync(fs.readFileSync(path.join(dir, "index.js.gz")));
      expect(inflated.equals(fs.readFileSync(bundlePath(service)))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(cm.metadata.name).toBe(`${service}-bundle-${asset.hash}`);
    expect(cm.metadata.annotations["stratum.dev/asset-sha256"]).toBe(asset.hash);
    // a third of the 1 MiB a ConfigMap holds, or less
    expect(cm.binaryData["index.js.gz"].length).toBeLessThan(512 * 1024);
  });

  it("is the same object on every synth: compression carries no time or machine", () => {
    expect(synth("gateway").cm).toEqual(synth("gateway").cm);
  });

  it("runs the bundle through the loader as the main module, with the arguments the pod passes", () => {
    const { asset, cm } = synth("gateway");
    const dir = mount(cm);
    try {
      const [, ...flags] = asset.command;
      const entry = flags.pop()!.replace("/opt/stratum", dir);
      const ok = spawnSync(process.execPath, [...flags, entry, "--config", path.resolve("services/gateway/config.example.yaml"), "--check"], { encoding: "utf8" });
      expect(ok.stderr).toBe("");
      expect(ok.status).toBe(0);
      expect(ok.stdout).toContain("config.example.yaml: ok (3 routes)");
      const bad = path.join(dir, "bad.yaml");
      fs.writeFileSync(bad, "gateway: { port: 70000 }\n");
      const refused = spawnSync(process.execPath, [...flags, entry, "--config", bad, "--check"], { encoding: "utf8" });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain("gateway.port");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
