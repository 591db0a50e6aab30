import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";

/** A scratch folder removed by `cleanup`. */
export function scratch(prefix: string): { dir: string; write: (name: string, content: unknown) => string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `stratum-${prefix}-`));
  return {
    dir,
    write(name, content) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, typeof content === "string" ? content : YAML.stringify(content, { lineWidth: 0 }));
      return file;
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs a real tool (promtool, amtool) and returns its exit code and output. */
export function run(tool: string, args: ReadonlyArray<string>): { code: number; output: string; stdout: string } {
  const r = spawnSync(tool, [...args], { encoding: "utf8", timeout: 30000 });
  if (r.error) throw new Error(`${tool} could not run (${r.error.message}); install it with scripts/install-system-tools.sh`);
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

/**
 * The annotation text Prometheus renders for an alert, for the template forms the rules use:
 * `{{ $labels.x }}`, `{{ $value }}` piped through humanize, humanizePercentage or humanizeDuration (given pre-rendered).
 */
export function expand(text: string, labels: Readonly<Record<string, string>>, value?: string): string {
  return text
    .replace(/\{\{ \$labels\.([a-zA-Z_][a-zA-Z0-9_]*) \}\}/g, (_m, k: string) => labels[k] ?? "")
    .replace(/\{\{ \$value( \| [a-zA-Z]+)? \}\}/g, () => {
      if (value === undefined) throw new Error(`no value given for ${JSON.stringify(text)}`);
      return value;
    });
}
