import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ENVIRONMENTS } from "../../stacks/environments";
import { PolicyViolationError, renderYaml, sortObjects, synthEnvironment, writeOutputs } from "../../stacks/synth";
import { K8sObject, PolicyRule } from "../../policies/types";

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "stratum-synth-"));
}

/** Every file under a folder, relative path -> content. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

const all = () => Object.values(ENVIRONMENTS).map((env) => synthEnvironment(env));

describe("synth output", () => {
  it("is byte-identical across two runs", () => {
    const a = tmp();
    const b = tmp();
    writeOutputs(a, all());
    writeOutputs(b, all());
    const ta = tree(a);
    expect(Object.keys(ta).length).toBeGreaterThan(6);
    expect(tree(b)).toEqual(ta);
  });

  it("writes one file per component plus the ArgoCD root, project and one Application per component", () => {
    const out = tmp();
    const [dev] = all();
    writeOutputs(out, [dev]);
    const files = Object.keys(tree(out)).sort();
    const components = dev.platform.components.filter((c) => c.toJson().length > 0).map((c) => c.componentName);
    expect(components.length).toBeGreaterThan(2);
    for (const c of components) {
      expect(files).toContain(`dev/${c}.k8s.yaml`);
      expect(files).toContain(`dev/argocd/apps/${c}.yaml`);
    }
    expect(files).toContain("dev/argocd/root.yaml");
    expect(files).toContain("dev/argocd/apps/project.yaml");
  });

  it("leaves the previous output untouched when a policy fails, and leaves no temporary folder", () => {
    const parent = tmp();
    const out = path.join(parent, "dist");
    writeOutputs(out, all());
    const before = tree(out);
    const alwaysFails: PolicyRule = { id: "always-fails", severity: "error", description: "test", check: (o) => (o.kind === "Namespace" ? [{ field: "metadata.name", message: "refused by the test" }] : []) };
    const failing = Object.values(ENVIRONMENTS).map((env) => synthEnvironment(env, { rules: [alwaysFails] }));
    expect(() => writeOutputs(out, failing)).toThrow(PolicyViolationError);
    expect(() => writeOutputs(out, failing)).toThrow(/environment dev: \d+ policy error\(s\):\n  error \[always-fails\] Namespace /);
    expect(tree(out)).toEqual(before);
    expect(fs.readdirSync(parent)).toEqual(["dist"]);
  });

  it("leaves the previous output untouched when writing fails half-way", () => {
    const parent = tmp();
    const out = path.join(parent, "dist");
    const results = all();
    writeOutputs(out, results);
    const before = tree(out);
    const broken = results.map((r, i) => (i === 2 ? { ...r, files: [...r.files, { relativePath: "../../../\0bad", component: "x", objects: [] }] } : r));
    expect(() => writeOutputs(out, broken)).toThrow();
    expect(tree(out)).toEqual(before);
    expect(fs.readdirSync(parent)).toEqual(["dist"]);
  });

  it("orders namespaces first, then by kind, namespace and name", () => {
    const o = (kind: string, name: string, namespace?: string): K8sObject => ({ apiVersion: "v1", kind, metadata: { name, namespace } });
    const sorted = sortObjects([o("Service", "b", "x"), o("Deployment", "a", "x"), o("Namespace", "x"), o("Service", "a", "x"), o("Zeta", "z")]);
    expect(sorted.map((x) => `${x.kind}/${x.metadata.name}`)).toEqual(["Namespace/x", "Service/a", "Service/b", "Deployment/a", "Zeta/z"]);
  });

  it("renders YAML 1.1 so that kubectl keeps yes/on/no as strings", () => {
    const yaml = renderYaml([{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "yes", b: "on", c: "1.10", d: "=" } }]);
    expect(yaml).toContain('d: "="');
    expect(yaml).toContain('a: "yes"');
    expect(yaml).toContain('b: "on"');
    expect(yaml).toContain('c: "1.10"');
  });
});

describe("written YAML", () => {
  it.each(Object.keys(ENVIRONMENTS))("reads back, under YAML 1.1 and 1.2, as exactly the objects of %s", (name) => {
    const YAML = require("yaml") as typeof import("yaml");
    const { files } = synthEnvironment(ENVIRONMENTS[name]);
    for (const f of files) {
      const text = renderYaml(f.objects);
      const expected = JSON.parse(JSON.stringify(f.objects));
      for (const version of ["1.1", "1.2"] as const) {
        const docs = YAML.parseAllDocuments(text, { version });
        for (const d of docs) expect(d.errors).toEqual([]);
        expect(docs.map((d) => d.toJS())).toEqual(expected);
      }
    }
  });

  it("keeps multi-line text readable as literal blocks", () => {
    const yaml = renderYaml([{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { "redis.conf": "appendonly yes\nappendfsync everysec\n" } }]);
    expect(yaml).toContain("redis.conf: |\n    appendonly yes\n    appendfsync everysec\n");
  });
});
