import type { CompiledEvent } from "./catalog";
import { timestampProblem } from "../../shared/timestamp";

/** One reason an event is refused: the field (JSON pointer style) and what is wrong. */
export interface ValidationError {
  readonly field: string;
  readonly message: string;
}

/** A CloudEvents 1.0 event in structured JSON mode. */
export interface CloudEvent {
  readonly specversion: string;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time: string;
  readonly data?: unknown;
  readonly [attribute: string]: unknown;
}

const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;
const CONTEXT_ATTRIBUTES = new Set(["specversion", "id", "source", "type", "time", "datacontenttype", "dataschema", "subject", "data", "data_base64"]);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const JSON_CONTENT = /^application\/(([a-z0-9.+-]+\+)?json)(\s*;.*)?$/i;
/** Deepest nesting of `data` that is accepted (bounds the work of validation and storage). */
export const MAX_DEPTH = 64;
/**
 * Longest `id` in UTF-8 bytes. `source` and `id` together form the store's unique btree key, whose entries PostgreSQL
 * limits to about 2,700 bytes; MAX_SOURCE_BYTES + MAX_ID_BYTES (1,280) stays well under it even incompressible.
 */
export const MAX_ID_BYTES = 256;
/** Longest `source` in UTF-8 bytes (see MAX_ID_BYTES). */
export const MAX_SOURCE_BYTES = 1024;

/**
 * Describes a value from the input for an error message without serialising it whole: a string is quoted and
 * truncated, anything else is named by its type (an attacker-sized or deeply nested value cannot blow up the message).
 */
export function describe(value: unknown, max = 64): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return value.length > max ? `${JSON.stringify(value.slice(0, max))}... (${value.length} characters)` : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return `a ${typeof value}`;
}

function requiredString(event: Record<string, unknown>, name: string, maxBytes: number, errors: ValidationError[]): string | undefined {
  const v = event[name];
  if (v === undefined || v === null) errors.push({ field: name, message: "is required" });
  else if (typeof v !== "string") errors.push({ field: name, message: `must be a string (got ${describe(v)})` });
  else if (v.length === 0) errors.push({ field: name, message: "must not be empty" });
  else if (v.length > maxBytes || Buffer.byteLength(v) > maxBytes) errors.push({ field: name, message: `must be at most ${maxBytes} bytes in UTF-8 (got ${Buffer.byteLength(v)})` });
  else return v;
  return undefined;
}

/**
 * Strings the event store cannot hold, and nesting beyond MAX_DEPTH: PostgreSQL refuses NUL characters and lone
 * UTF-16 surrogates in text and jsonb, so such an event would otherwise be retried forever.
 */
function storableProblems(value: unknown): ValidationError[] {
  const errors: ValidationError[] = [];
  // the path is kept as a stack and joined only for an error: this runs on every event
  const keys: string[] = [];
  // keys are producer-chosen and may be huge: the path in an error is bounded
  const at = () => (keys.length ? `/${keys.join("/")}`.slice(0, 256) : "(event)");
  const visit = (v: unknown, depth: number): void => {
    if (errors.length >= 5) return;
    if (typeof v === "string") {
      if (v.includes("\u0000")) errors.push({ field: at(), message: "contains a NUL character (\\u0000), which cannot be stored" });
      else if (LONE_SURROGATE.test(v)) errors.push({ field: at(), message: "contains a lone UTF-16 surrogate, which cannot be stored" });
      return;
    }
    // JSON.parse reads 1e400 as Infinity, which would be written back as null
    if (typeof v === "number" && !Number.isFinite(v)) { errors.push({ field: at(), message: "is a number beyond the range of a 64-bit float, which would be stored as null" }); return; }
    if (v === null || typeof v !== "object") return;
    if (depth >= MAX_DEPTH) { errors.push({ field: at(), message: `is nested deeper than ${MAX_DEPTH} levels` }); return; }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) { keys.push(String(i)); visit(v[i], depth + 1); keys.pop(); }
      return;
    }
    for (const k in v as Record<string, unknown>) {
      const bad = k.includes("\u0000") || LONE_SURROGATE.test(k);
      keys.push(bad ? k.replace(/[\u0000\ud800-\udfff]/g, "?") : k);
      if (bad) errors.push({ field: at(), message: "has a key that cannot be stored" });
      visit((v as Record<string, unknown>)[k], depth + 1);
      keys.pop();
    }
  };
  visit(value, 0);
  return errors;
}

/**
 * Checks the CloudEvents 1.0 envelope (specversion, id, source, type, time, optional attributes) and, when it is
 * sound, the data against the catalog schema of `expected`. Returns every problem found; empty means valid.
 */
export function validateEvent(input: unknown, expected: CompiledEvent, maxDataErrors = 20): ValidationError[] {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    return [{ field: "(event)", message: `must be a JSON object (got ${input === null ? "null" : Array.isArray(input) ? "array" : typeof input})` }];
  }
  const event = input as Record<string, unknown>;
  const errors: ValidationError[] = [];
  if (event.specversion !== "1.0") errors.push({ field: "specversion", message: `must be "1.0" (got ${describe(event.specversion)})` });
  requiredString(event, "id", MAX_ID_BYTES, errors);
  const source = requiredString(event, "source", MAX_SOURCE_BYTES, errors);
  if (source !== undefined && /[\s\u0000-\u001f]/.test(source)) errors.push({ field: "source", message: "must be a URI-reference (no whitespace or control characters)" });
  const type = requiredString(event, "type", 256, errors);
  if (type !== undefined && type !== expected.type) errors.push({ field: "type", message: `must be '${expected.type}' on topic '${expected.topic}' (got ${describe(type)})` });
  const time = requiredString(event, "time", 64, errors);
  const timeProblem = time === undefined ? undefined : timestampProblem(time);
  if (timeProblem) errors.push({ field: "time", message: `must be an RFC 3339 timestamp such as 2024-05-01T12:00:00Z; ${describe(time)} ${timeProblem}` });
  const ct = event.datacontenttype;
  if (ct !== undefined && (typeof ct !== "string" || !JSON_CONTENT.test(ct))) errors.push({ field: "datacontenttype", message: `must be a JSON media type such as application/json (got ${describe(ct)})` });
  const ds = event.dataschema;
  if (ds !== undefined && ds !== expected.schemaId) errors.push({ field: "dataschema", message: `must be '${expected.schemaId}' (version ${expected.version}) or absent (got ${describe(ds)})` });
  if (event.subject !== undefined && typeof event.subject !== "string") errors.push({ field: "subject", message: `must be a string (got ${describe(event.subject)})` });
  if (event.data_base64 !== undefined) errors.push({ field: "data_base64", message: "is not accepted; send JSON in data" });
  for (const [name, value] of Object.entries(event)) {
    if (CONTEXT_ATTRIBUTES.has(name)) continue;
    if (!EXTENSION_NAME.test(name)) errors.push({ field: name.slice(0, 64), message: "is not a valid extension attribute name (lower-case letters and digits, at most 20)" });
    else if (value !== null && !["string", "number", "boolean"].includes(typeof value)) errors.push({ field: name, message: "extension attribute values must be strings, numbers or booleans" });
    // CloudEvents has no fractional or 64-bit numbers: a number attribute is an Integer, a signed 32-bit value
    else if (typeof value === "number" && !(Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31)) {
      errors.push({ field: name, message: `must be a CloudEvents Integer, a whole number from -2147483648 to 2147483647 (got ${describe(value)})` });
    }
  }
  if (!("data" in event) || event.data === undefined) errors.push({ field: "data", message: "is required" });
  errors.push(...storableProblems(event));
  if (errors.length) return errors;
  if (!expected.validate(event.data)) {
    expected.explain(event.data);
    for (const e of (expected.explain.errors ?? []).slice(0, maxDataErrors)) {
      const extra = e.keyword === "additionalProperties" ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'` : e.keyword === "required" ? "" : "";
      errors.push({ field: `data${e.instancePath}`, message: `${e.message ?? e.keyword}${extra}` });
    }
  }
  return errors;
}
