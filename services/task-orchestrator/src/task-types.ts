import Ajv, { ErrorObject, ValidateFunction } from "ajv";
import { parseTimestamp } from "../../shared/timestamp";

/** The kinds of task the orchestrator runs. */
export const TASK_TYPES = ["import", "export", "batch", "report", "sync"] as const;
/** A task type. */
export type TaskType = (typeof TASK_TYPES)[number];

const NAME = { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$" };
const FILE_NAME = { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", description: "name of a file uploaded for the task" };

/**
 * Milliseconds since the epoch of an RFC 3339 date-time (`2026-01-31T12:00:00Z`, `...+02:00`), or undefined unless it
 * is one PostgreSQL's timestamptz stores as written (`parseTimestamp`), with a second of 60 only as the leap second
 * 23:59:60 UTC.
 */
export function parseDateTime(text: string): number | undefined {
  const t = parseTimestamp(text);
  if (!t) return undefined;
  if (t.leapSecond) {
    const before = new Date(t.ms - 1000);
    if (before.getUTCHours() !== 23 || before.getUTCMinutes() !== 59) return undefined;
  }
  return t.ms;
}

const DATE_TIME = { type: "string", format: "date-time" };

/** Deeper than any parameter schema goes; JSON.parse accepts any depth, and walking deeper would exhaust the stack. */
export const MAX_PARAMETER_DEPTH = 32;

/**
 * Where a string in `value` (a key or a value, at any depth) cannot be stored in PostgreSQL's json or jsonb: NUL
 * (\u0000) or a UTF-16 surrogate without its pair. JSON.parse accepts both, so they pass every schema. Objects and
 * arrays nested deeper than MAX_PARAMETER_DEPTH are refused where they start.
 */
export function unstorableStrings(value: unknown, field: string, depth = 0): FieldError[] {
  const problem = (s: string) =>
    s.includes("\u0000") ? "must not contain NUL characters (\\u0000)" : /\p{Surrogate}/u.test(s) ? "must not contain unpaired UTF-16 surrogates (\\ud800-\\udfff)" : undefined;
  if (typeof value === "string") {
    const p = problem(value);
    return p ? [{ field, message: p }] : [];
  }
  if (value === null || typeof value !== "object") return [];
  if (depth >= MAX_PARAMETER_DEPTH) return [{ field, message: `must not be nested deeper than ${MAX_PARAMETER_DEPTH} levels` }];
  const out: FieldError[] = [];
  for (const [k, v] of Object.entries(value)) {
    const keyProblem = problem(k);
    const path = `${field}.${keyProblem ? JSON.stringify(k).slice(1, -1) : k}`;
    if (keyProblem) out.push({ field: path, message: `(a key) ${keyProblem}` });
    out.push(...unstorableStrings(v, path, depth + 1));
  }
  return out;
}

/**
 * JSON schema of the parameters of each task type; a create request is checked against the schema of its type and
 * refused with 400 naming every bad field.
 */
export const PARAMETER_SCHEMAS: Readonly<Record<TaskType, Record<string, unknown>>> = {
  import: {
    type: "object",
    additionalProperties: false,
    required: ["file", "format", "target"],
    properties: {
      file: FILE_NAME,
      format: { enum: ["csv", "ndjson"] },
      target: NAME,
      skipHeader: { type: "boolean" },
    },
  },
  export: {
    type: "object",
    additionalProperties: false,
    required: ["format"],
    properties: {
      format: { enum: ["csv", "ndjson"] },
      filter: {
        type: "object",
        additionalProperties: false,
        properties: {
          type: { enum: [...TASK_TYPES] },
          state: { enum: ["pending", "running", "completed", "failed", "retrying", "cancelled"] },
          createdAfter: DATE_TIME,
        },
      },
      limit: { type: "integer", minimum: 1, maximum: 1000000 },
    },
  },
  batch: {
    type: "object",
    additionalProperties: false,
    required: ["items"],
    properties: {
      items: { type: "array", minItems: 1, maxItems: 10000, items: { type: "string", maxLength: 1024 } },
      itemDelayMs: { type: "integer", minimum: 0, maximum: 60000, description: "pause between items, to spare downstream systems" },
    },
  },
  report: {
    type: "object",
    additionalProperties: false,
    required: ["name", "from", "to"],
    properties: {
      name: NAME,
      from: DATE_TIME,
      to: DATE_TIME,
      groupBy: { enum: ["type", "state"] },
    },
  },
  sync: {
    type: "object",
    additionalProperties: false,
    required: ["prefix"],
    properties: {
      prefix: { type: "string", pattern: "^[A-Za-z0-9._/-]{0,512}$" },
    },
  },
};

/** Parameter names each type reads an uploaded file from: such a task waits until the file is there. */
export const UPLOAD_PARAMETERS: Readonly<Partial<Record<TaskType, string>>> = { import: "file" };

/** A problem with one field of a request: the path (`parameters.items`) and what is wrong. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** Turns ajv errors into field errors rooted at `root`. */
export function fieldErrors(errors: ReadonlyArray<ErrorObject> | null | undefined, root: string): FieldError[] {
  return (errors ?? []).map((e) => {
    const path = e.instancePath.split("/").filter(Boolean).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    let field = [root, ...path].filter(Boolean).join(".");
    let message = e.message ?? "is invalid";
    if (e.keyword === "required") {
      field = [field, (e.params as { missingProperty: string }).missingProperty].filter(Boolean).join(".");
      message = "is required";
    } else if (e.keyword === "additionalProperties") {
      field = [field, (e.params as { additionalProperty: string }).additionalProperty].filter(Boolean).join(".");
      message = "is not allowed";
    } else if (e.keyword === "format" && (e.params as { format: string }).format === "date-time") {
      message = "must be an RFC 3339 date-time: year 0001-9999, a real calendar day, Z or an offset up to 15:59 (e.g. 2026-01-31T00:00:00Z)";
    } else if (e.keyword === "enum") {
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
    }
    return { field, message };
  });
}

/** The per-type parameter validators, compiled once. */
export class ParameterValidator {
  private readonly validators = new Map<TaskType, ValidateFunction>();

  constructor() {
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addFormat("date-time", { type: "string", validate: (s: string) => parseDateTime(s) !== undefined });
    for (const t of TASK_TYPES) this.validators.set(t, ajv.compile(PARAMETER_SCHEMAS[t]));
  }

  /** Field errors of `parameters` for `type` (empty when valid); every type's strings must fit PostgreSQL's jsonb. */
  check(type: TaskType, parameters: unknown): FieldError[] {
    const v = this.validators.get(type)!;
    const unstorable = unstorableStrings(parameters, "parameters");
    if (!v(parameters)) return [...fieldErrors(v.errors, "parameters"), ...unstorable];
    if (unstorable.length) return unstorable;
    const p = parameters as Record<string, unknown>;
    if (type === "report" && parseDateTime(String(p.from))! > parseDateTime(String(p.to))!) return [{ field: "parameters.to", message: "must not be before parameters.from" }];
    return [];
  }
}
