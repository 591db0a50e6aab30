import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError, dev, ENVIRONMENT_NAMES, ENVIRONMENTS, getEnvironment, loadEnvironments, mergeOverride, prod, staging, validateEnvironment } from "../../../stacks/environments";

function withConfig(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-env-"));
  const file = path.join(dir, "stratum.config.yaml");
  fs.writeFileSync(file, text);
  return file;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("environments", () => {
  it("ships dev, staging and prod in that order", () => {
    expect(ENVIRONMENT_NAMES).toEqual(["dev", "staging", "prod"]);
    expect([dev.tier, staging.tier, prod.tier]).toEqual(["dev", "staging", "prod"]);
  });

  it.each(Object.keys(ENVIRONMENTS))("%s satisfies the environment schema", (name) => {
    expect(() => validateEnvironment(ENVIRONMENTS[name])).not.toThrow();
  });

  it("sizes prod larger and more available than dev", () => {
    expect(prod.sizing.services.replicas).toBeGreaterThan(dev.sizing.services.replicas);
    expect(prod.ha).toEqual({ nodeSpread: "hard", zoneSpread: "hard" });
    expect(dev.ha.nodeSpread).toBe("soft");
  });

  it("names the allowed environments when asked for an unknown one", () => {
    const e = configError(() => getEnvironment("qa"));
    expect(e.message).toContain('unknown environment "qa"');
    expect(e.message).toContain("allowed: dev, staging, prod");
  });
});

describe("stratum.config.yaml overrides", () => {
  it("means no overrides when the file is absent", () => {
    expect(loadEnvironments(path.join(os.tmpdir(), "does-not-exist.yaml"))).toEqual(ENVIRONMENTS);
  });

  it("applies a valid override deeply and keeps the rest", () => {
    const file = withConfig("environments:\n  staging:\n    clusterDomain: stg.example.org\n    sizing:\n      services:\n        replicas: 3\n");
    const envs = loadEnvironments(file);
    expect(envs.staging.clusterDomain).toBe("stg.example.org");
    expect(envs.staging.sizing.services.replicas).toBe(3);
    expect(envs.staging.sizing.services.resources).toEqual(staging.sizing.services.resources);
    expect(envs.dev).toEqual(dev);
  });

  it("reports every bad field with its path, the bad value and what is allowed", () => {
    const file = withConfig(
      [
        "environments:",
        "  prod:",
        "    tier: production",
        "    sizing:",
        "      services:",
        "        replicas: 0",
        "        resources:",
        "          requests: { cpu: lots }",
        "    clusterDomian: typo.example.com",
      ].join("\n"),
    );
    const e = configError(() => loadEnvironments(file));
    const text = e.problems.join("\n");
    expect(e.problems.length).toBeGreaterThanOrEqual(4);
    expect(text).toContain('environments.prod.tier: must be one of "dev", "staging", "prod" (got "production")');
    expect(text).toMatch(/environments\.prod\.sizing\.services\.replicas: must be >= 1 \(got 0\)/);
    expect(text).toContain('environments.prod.sizing.services.resources.requests.cpu: must be a CPU quantity such as 250m or 2 (got "lots")');
    expect(text).toMatch(/environments\.prod\.clusterDomian: unknown field; allowed: .*clusterDomain/);
  });

  it("rejects an environment that does not exist, listing those that do", () => {
    const e = configError(() => loadEnvironments(withConfig("environments:\n  qa: {}\n")));
    expect(e.problems.join("\n")).toMatch(/environments\.qa: unknown field; allowed: dev, staging, prod/);
  });

  it("rejects a file that is not YAML", () => {
    const e = configError(() => loadEnvironments(withConfig("environments: [unclosed\n")));
    expect(e.problems[0]).toMatch(/not valid YAML/);
  });
});

describe("mergeOverride", () => {
  it("merges objects key by key and replaces scalars and arrays", () => {
    expect(mergeOverride({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] } })).toEqual({ a: { b: 1, c: [3] }, d: 1 });
  });
});
