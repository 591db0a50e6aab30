import type { ErrorObject } from "ajv";

/** A configuration problem: the field path, what is wrong, and what is allowed. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: ReadonlyArray<string>,
  ) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function valueAt(root: unknown, pointer: string): unknown {
  if (pointer === "") return root;
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function dotted(pointer: string): string {
  if (pointer === "") return "(root)";
  return pointer
    .slice(1)
    .split("/")
    .map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((k, i) => (/^\d+$/.test(k) ? `[${k}]` : i === 0 ? k : `.${k}`))
    .join("");
}

const show = (v: unknown): string => (v === undefined ? "nothing" : JSON.stringify(v));

/** Turns ajv errors into one line each: `field.path: what is wrong (got value); allowed: ...`. */
export function describeAjvErrors(errors: ReadonlyArray<ErrorObject>, data: unknown, schemaOf?: (path: string) => unknown): string[] {
  const lines = new Set<string>();
  for (const e of errors) {
    const path = dotted(e.instancePath);
    const got = valueAt(data, e.instancePath);
    switch (e.keyword) {
      case "additionalProperties": {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        const allowed = schemaOf ? Object.keys(((schemaOf(e.schemaPath) as Record<string, unknown>) ?? {}) as object) : [];
        const at = e.instancePath === "" ? key : `${path}.${key}`;
        lines.add(`${at}: unknown field${allowed.length ? `; allowed: ${allowed.join(", ")}` : ""}`);
        break;
      }
      case "enum":
        lines.add(`${path}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")} (got ${show(got)})`);
        break;
      case "pattern":
        lines.add(`${path}: must be ${(e.parentSchema as { description?: string })?.description ?? `a string matching ${(e.params as { pattern: string }).pattern}`} (got ${show(got)})`);
        break;
      case "required":
        lines.add(`${path === "(root)" ? "" : `${path}.`}${(e.params as { missingProperty: string }).missingProperty}: required field is missing`);
        break;
      default:
        lines.add(`${path}: ${e.message ?? e.keyword} (got ${show(got)})`);
    }
  }
  return [...lines];
}
