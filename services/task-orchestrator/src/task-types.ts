import Ajv, { ErrorObject, ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

/** The kinds of task the orchestrator runs. */
export const TASK_TYPES = ["import", "export", "batch", "report", "sync"] as const;
/** A task type. */
export type TaskType = (typeof TASK_TYPES)[number];

const NAME = { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$" };
const FILE_NAME = { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", description: "name of a file uploaded for the task" };

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
          createdAfter: { type: "string", format: "date-time" },
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
      from: { type: "string", format: "date-time" },
      to: { type: "string", format: "date-time" },
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
    addFormats(ajv);
    for (const t of TASK_TYPES) this.validators.set(t, ajv.compile(PARAMETER_SCHEMAS[t]));
  }

  /** Field errors of `parameters` for `type` (empty when valid). */
  check(type: TaskType, parameters: unknown): FieldError[] {
    const v = this.validators.get(type)!;
    if (v(parameters)) {
      const p = parameters as Record<string, unknown>;
      if (type === "report" && Date.parse(String(p.from)) > Date.parse(String(p.to))) return [{ field: "parameters.to", message: "must not be before parameters.from" }];
      return [];
    }
    return fieldErrors(v.errors, "parameters");
  }
}
