/**
 * A small, fast YAML writer for JSON-shaped manifests, safe under YAML 1.1 (what kubectl and Argo CD parse) and 1.2:
 * a string is plain only when no parser could read it as anything else; everything else is double-quoted, and
 * multi-line text is a literal block. The synth test parses every written file back and compares it with the objects.
 */

/** Words YAML 1.1 reads as booleans or null, in any case. */
const RESERVED = new Set(["y", "yes", "n", "no", "true", "false", "on", "off", "null", "~"]);
/** Plain only for these characters, starting with a letter or `/`, never ending in `:` (so no number, date or indicator). */
const PLAIN = /^[A-Za-z/][A-Za-z0-9_./@:-]*$/;

function quoted(s: string): string {
  // JSON escapes are YAML escapes; the line and paragraph separators are line breaks to YAML 1.1, so escape them too
  return JSON.stringify(s).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029").replace(/\u0085/g, "\\u0085");
}

/** A string as a one-line scalar (plain when unambiguous, else double-quoted). */
export function scalar(s: string): string {
  return PLAIN.test(s) && !s.endsWith(":") && !RESERVED.has(s.toLowerCase()) ? s : quoted(s);
}

/** Whether a multi-line string can be written as a literal block that reads back byte for byte. */
function literalOk(s: string): boolean {
  if (!s.includes("\n") || /[\r\u0085\u2028\u2029\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s)) return false;
  const first = s.split("\n").find((l) => l.length > 0);
  return first !== undefined && !first.startsWith(" ") && !first.startsWith("\t");
}

function literal(s: string, indent: string): string {
  const trailing = s.length - s.replace(/\n+$/, "").length;
  const chomp = trailing === 0 ? "-" : trailing === 1 ? "" : "+";
  const content = trailing === 0 ? s : s.slice(0, -1);
  return `|${chomp}\n` + content.split("\n").map((l) => (l.length ? indent + l : "")).join("\n");
}

function isEmptyCollection(v: unknown): boolean {
  return (Array.isArray(v) && v.length === 0) || (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
}

function inline(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return scalar(v);
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`cannot write the number ${v} to YAML`);
    return String(v);
  }
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return "[]";
  return "{}";
}

function writeValue(v: unknown, indent: string, out: string[], key: string): void {
  // `key` is what precedes the value on its line ("name:" or "-")
  if (typeof v === "string" && literalOk(v)) {
    out.push(`${key} ${literal(v, indent + "  ")}`);
  } else if (Array.isArray(v) && v.length) {
    out.push(key);
    writeSeq(v, indent + "  ", out);
  } else if (typeof v === "object" && v !== null && !Array.isArray(v) && !isEmptyCollection(v)) {
    out.push(key);
    writeMap(v as Record<string, unknown>, indent + "  ", out);
  } else {
    out.push(`${key} ${inline(v)}`);
  }
}

function writeMap(m: Record<string, unknown>, indent: string, out: string[]): void {
  for (const [k, v] of Object.entries(m)) {
    if (v === undefined) continue;
    writeValue(v, indent, out, `${indent}${scalar(k)}:`);
  }
}

function writeSeq(a: ReadonlyArray<unknown>, indent: string, out: string[]): void {
  for (const item of a) {
    if (typeof item === "object" && item !== null && !Array.isArray(item) && !isEmptyCollection(item)) {
      // the first key shares the dash's line
      const inner: string[] = [];
      writeMap(item as Record<string, unknown>, indent + "  ", inner);
      inner[0] = `${indent}- ${inner[0].slice(indent.length + 2)}`;
      out.push(...inner);
    } else if (Array.isArray(item) && item.length) {
      out.push(`${indent}-`);
      writeSeq(item, indent + "  ", out);
    } else if (typeof item === "string" && literalOk(item)) {
      out.push(`${indent}- ${literal(item, indent + "  ")}`);
    } else {
      out.push(`${indent}- ${inline(item)}`);
    }
  }
}

/** One manifest as a YAML document (no `---`), ending in a newline. */
export function toYaml(obj: Record<string, unknown>): string {
  const out: string[] = [];
  writeMap(obj, "", out);
  return out.join("\n") + "\n";
}
