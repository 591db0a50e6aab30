import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runCli } from "../../stacks/main";

function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, "log").mockImplementation((...a) => void out.push(a.join(" ")));
  const error = jest.spyOn(console, "error").mockImplementation((...a) => void err.push(a.join(" ")));
  try {
    return { code: runCli(args), stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "stratum-cli-"));

describe("stratum synth CLI", () => {
  it("prints per environment a table of component, object count and file, and the elapsed time", () => {
    const out = path.join(tmp(), "dist");
    const r = run(["--env", "staging", "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/environment staging \(staging\): \d+ objects/);
    expect(r.stdout).toMatch(/component\s+objects\s+file/);
    expect(r.stdout).toMatch(new RegExp(`services\\s+\\d+\\s+${out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/staging/services.k8s.yaml`));
    expect(r.stdout).toMatch(/synthesized 1 environment\(s\) into .* in \d+ ms/);
    expect(fs.readdirSync(out)).toEqual(["staging"]);
  });

  it("exits 2 on an unknown environment, naming the allowed ones, and writes nothing", () => {
    const out = path.join(tmp(), "dist");
    const r = run(["--env", "qa", "--out", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown environment "qa"; allowed: dev, staging, prod');
    expect(fs.existsSync(out)).toBe(false);
  });

  it("exits 2 on a bad overrides file, naming the field, and keeps the previous output", () => {
    const dir = tmp();
    const out = path.join(dir, "dist");
    expect(run(["--env", "dev", "--out", out, "--quiet"]).code).toBe(0);
    const before = fs.readFileSync(path.join(out, "dev", "services.k8s.yaml"), "utf8");
    const config = path.join(dir, "stratum.config.yaml");
    fs.writeFileSync(config, "environments:\n  dev:\n    ha: { nodeSpread: always }\n");
    const r = run(["--out", out, "--config", config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('environments.dev.ha.nodeSpread: must be one of "hard", "soft" (got "always")');
    expect(fs.readFileSync(path.join(out, "dev", "services.k8s.yaml"), "utf8")).toBe(before);
  });

  it("exits 2 on an unknown argument, with the usage", () => {
    const r = run(["--envs", "dev"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown argument "--envs"[\s\S]*usage: stratum-synth/);
  });
});
