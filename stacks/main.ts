import * as path from "node:path";
import { ConfigError, ENVIRONMENT_NAMES, getEnvironment, loadEnvironments } from "./environments";
import { formatFinding } from "../policies/engine";
import { EnvironmentSynth, PolicyViolationError, synthEnvironment, writeOutputs } from "./synth";

class HelpRequested extends Error {}

interface Args {
  envs: string[];
  out: string;
  config: string;
  quiet: boolean;
}

const USAGE = `usage: stratum-synth [--env NAME]... [--out DIR] [--config FILE] [--quiet]
  --env NAME     synthesize only this environment (repeatable; one of ${ENVIRONMENT_NAMES.join(", ")})
  --out DIR      output folder (default: dist)
  --config FILE  overrides file (default: stratum.config.yaml, optional)
  --quiet        print errors only`;

function parseArgs(argv: string[]): Args {
  const args: Args = { envs: [], out: "dist", config: "stratum.config.yaml", quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new ConfigError("arguments", [`${a} needs a value`]);
      return v;
    };
    if (a === "--env") args.envs.push(...value().split(","));
    else if (a.startsWith("--env=")) args.envs.push(...a.slice(6).split(","));
    else if (a === "--out") args.out = value();
    else if (a === "--config") args.config = value();
    else if (a === "--quiet") args.quiet = true;
    else if (a === "--help" || a === "-h") throw new HelpRequested();
    else throw new ConfigError("arguments", [`unknown argument ${JSON.stringify(a)}\n${USAGE}`]);
  }
  return args;
}

function table(r: EnvironmentSynth, out: string): string {
  const rows = r.files.map((f) => [f.component, String(f.objects.length), path.join(out, r.environment.name, f.relativePath)]);
  const head = ["component", "objects", "file"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [`environment ${r.environment.name} (${r.environment.tier}): ${r.objects.length} objects`, line(head), ...rows.map(line)].join("\n");
}

/** The synth command line: returns the exit code (0 ok, 1 policy or construction error, 2 bad configuration). */
export function runCli(argv: ReadonlyArray<string>): number {
  const started = process.hrtime.bigint();
  try {
    const args = parseArgs([...argv]);
    const envs = loadEnvironments(args.config);
    const names = args.envs.length ? args.envs : ENVIRONMENT_NAMES;
    for (const n of names) getEnvironment(n);
    const results = names.map((n) => synthEnvironment(envs[n]));
    writeOutputs(args.out, results);
    if (!args.quiet) {
      for (const r of results) {
        console.log(table(r, args.out));
        for (const s of r.report.suppressed) console.log(`  suppressed ${formatFinding(s)} (reason: ${s.reason})`);
        for (const w of r.report.findings.filter((f) => f.severity === "warning")) console.log(`  ${formatFinding(w)}`);
        console.log("");
      }
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      console.log(`synthesized ${results.length} environment(s) into ${args.out}/ in ${ms.toFixed(0)} ms`);
    }
    return 0;
  } catch (e) {
    if (e instanceof HelpRequested) { console.log(USAGE); return 0; }
    if (e instanceof ConfigError) { console.error(`error: ${e.message}`); return 2; }
    if (e instanceof PolicyViolationError) { console.error(`error: ${e.message}\nnothing was written.`); return 1; }
    console.error(`error: ${(e as Error).message}\nnothing was written.`);
    return 1;
  }
}

if (require.main === module) process.exitCode = runCli(process.argv.slice(2));
