/** A value of a Fluent Bit property: booleans render as On/Off. */
export type FluentBitValue = string | number | boolean;

/** One section of Fluent Bit's classic configuration: `[INPUT]`, `[FILTER]`, ... with its properties in order. */
export interface FluentBitSection {
  /** Section kind. */
  readonly kind: "SERVICE" | "INPUT" | "FILTER" | "OUTPUT" | "PARSER" | "MULTILINE_PARSER";
  /** Properties in order; a key may repeat only where Fluent Bit allows it (e.g. `Parsers_File`, `Rule`). */
  readonly properties: ReadonlyArray<readonly [string, FluentBitValue]>;
}

/** A complete Fluent Bit configuration, split as the fluent-bit chart's `config` values take it. */
export interface FluentBitConfig {
  readonly service: FluentBitSection;
  readonly inputs: ReadonlyArray<FluentBitSection>;
  readonly filters: ReadonlyArray<FluentBitSection>;
  readonly outputs: ReadonlyArray<FluentBitSection>;
  /** Parsers of `custom_parsers.conf`. */
  readonly parsers: ReadonlyArray<FluentBitSection>;
}

/** Parsers that ship in the image's `/fluent-bit/etc/parsers.conf`, plus the built-in multiline parsers. */
export const BUILTIN_PARSERS: ReadonlyArray<string> = ["docker", "cri", "json", "syslog-rfc5424", "syslog-rfc3164", "logfmt", "go", "python", "java"];
const REPEATABLE = new Set(["parsers_file", "rule", "parser", "add", "remove", "rename", "copy", "exclude", "regex"]);

function render(value: FluentBitValue): string {
  if (typeof value === "boolean") return value ? "On" : "Off";
  return String(value);
}

/** Renders sections in the classic format (`[KIND]` then four-space indented `Key value` lines), blank-line separated. */
export function renderSections(sections: ReadonlyArray<FluentBitSection>): string {
  return sections
    .map((s) => {
      const width = Math.max(...s.properties.map(([k]) => k.length));
      return [`[${s.kind}]`, ...s.properties.map(([k, v]) => `    ${k.padEnd(width)} ${render(v)}`)].join("\n");
    })
    .join("\n\n") + "\n";
}

function get(section: FluentBitSection, key: string): string[] {
  return section.properties.filter(([k]) => k.toLowerCase() === key.toLowerCase()).map(([, v]) => render(v));
}

/** Fluent Bit's tag matching: `*` matches any run of characters. */
export function tagMatches(pattern: string, tag: string): boolean {
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return re.test(tag);
}

/**
 * What Fluent Bit would refuse, or silently get wrong, checked at synth time: sections of the wrong kind in a slot,
 * missing `Name`, inputs without a `Tag`, filters and outputs without `Match`, a `Match` that no input's tag can
 * satisfy (the record would never reach it), a parser or multiline parser that is neither built in nor defined,
 * repeated keys where Fluent Bit keeps only one, and values that would break the line-based format.
 */
export function fluentBitConfigProblems(config: FluentBitConfig): string[] {
  const problems: string[] = [];
  const slots: Array<[string, ReadonlyArray<FluentBitSection>, FluentBitSection["kind"][]]> = [
    ["service", [config.service], ["SERVICE"]],
    ["inputs", config.inputs, ["INPUT"]],
    ["filters", config.filters, ["FILTER"]],
    ["outputs", config.outputs, ["OUTPUT"]],
    ["parsers", config.parsers, ["PARSER", "MULTILINE_PARSER"]],
  ];
  for (const [slot, sections, kinds] of slots) {
    sections.forEach((s, i) => {
      const where = `${slot}[${i}]`;
      if (!kinds.includes(s.kind)) problems.push(`${where}: a [${s.kind}] section does not belong in ${slot}`);
      const seen = new Set<string>();
      for (const [k, v] of s.properties) {
        const key = k.toLowerCase();
        if (seen.has(key) && !REPEATABLE.has(key)) problems.push(`${where}: '${k}' is set twice`);
        seen.add(key);
        if (/[\r\n]/.test(render(v))) problems.push(`${where}: '${k}' must be one line`);
        if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(k)) problems.push(`${where}: '${k}' is not a property name`);
      }
      if (s.kind !== "SERVICE" && get(s, "Name").length === 0) problems.push(`${where}: Name is required`);
    });
  }
  const tags = config.inputs.map((s) => get(s, "Tag")[0]);
  config.inputs.forEach((s, i) => {
    if (!tags[i]) problems.push(`inputs[${i}] (${get(s, "Name")[0] ?? "?"}): Tag is required, filters and outputs match on it`);
  });
  // A tail input tagged `kube.*` produces tags `kube.<path>`: any tag the pattern admits is possible.
  const possible = (match: string) => tags.some((t) => t && (tagMatches(match, t) || tagMatches(t, match)));
  for (const [slot, sections] of [["filters", config.filters], ["outputs", config.outputs]] as const) {
    sections.forEach((s, i) => {
      const where = `${slot}[${i}] (${get(s, "Name")[0] ?? "?"})`;
      const match = get(s, "Match")[0];
      const regex = get(s, "Match_Regex")[0];
      if (!match && !regex) problems.push(`${where}: Match or Match_Regex is required`);
      else if (match && !possible(match)) problems.push(`${where}: Match '${match}' matches no input tag (${tags.filter(Boolean).join(", ")})`);
    });
  }
  const defined = new Set([...BUILTIN_PARSERS, ...config.parsers.map((p) => get(p, "Name")[0]).filter(Boolean)]);
  const referenced: Array<[string, string]> = [];
  config.inputs.forEach((s, i) => {
    for (const v of [...get(s, "multiline.parser"), ...get(s, "Parser")]) for (const p of v.split(",").map((x) => x.trim())) referenced.push([`inputs[${i}]`, p]);
  });
  config.filters.forEach((s, i) => {
    for (const p of get(s, "Parser")) referenced.push([`filters[${i}]`, p]);
  });
  for (const [where, p] of referenced) if (!defined.has(p)) problems.push(`${where}: parser '${p}' is neither built in nor defined in parsers`);
  return problems;
}
