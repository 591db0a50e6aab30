import Ajv from "ajv";
import * as fs from "node:fs";
import * as YAML from "yaml";
import { dev } from "./dev";
import { Environment } from "./environment";
import { ConfigError, describeAjvErrors } from "./errors";
import { prod } from "./prod";
import { configFileSchema, environmentSchema, JsonSchema } from "./schema";
import { staging } from "./staging";

export * from "./environment";
export { ConfigError } from "./errors";
export { environmentSchema, configFileSchema, schemas, sizingSchema } from "./schema";
export { dev, staging, prod };

/** The environments Stratum ships, by name, in the order they are synthesized. */
export const ENVIRONMENTS: Readonly<Record<string, Environment>> = { dev, staging, prod };

/** The names of the shipped environments. */
export const ENVIRONMENT_NAMES: ReadonlyArray<string> = Object.keys(ENVIRONMENTS);

/** Returns a shipped environment by name; an unknown name is an error that lists the known ones. */
export function getEnvironment(name: string): Environment {
  const env = ENVIRONMENTS[name];
  if (!env) throw new ConfigError("--env", [`unknown environment ${JSON.stringify(name)}; allowed: ${ENVIRONMENT_NAMES.join(", ")}`]);
  return env;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep-merges an override into a base: objects merge key by key, everything else replaces. */
export function mergeOverride<T>(base: T, override: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(override)) return (override === undefined ? base : override) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = mergeOverride(out[k], v);
  return out as T;
}

function schemaAt(schema: JsonSchema, schemaPath: string): unknown {
  // "#/properties/a/properties/b/additionalProperties" -> the sibling "properties" object, to list allowed keys
  const parts = schemaPath.replace(/^#\//, "").split("/").slice(0, -1);
  let cur: unknown = schema;
  for (const p of parts) cur = (cur as Record<string, unknown>)?.[p];
  return (cur as Record<string, unknown>)?.properties;
}

/** Validates a complete Environment; throws a ConfigError naming every bad field. */
export function validateEnvironment(env: Environment, source = `environment ${env.name}`): Environment {
  const schema = environmentSchema();
  const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
  const validate = ajv.compile(schema);
  if (!validate(env)) throw new ConfigError(source, describeAjvErrors(validate.errors ?? [], env, (p) => schemaAt(schema, p)));
  return env;
}

/**
 * Reads the optional overrides file (`stratum.config.yaml`), checks it against the schema (all errors, no unknown
 * keys) and returns the environments with their overrides applied. A missing file means no overrides.
 */
export function loadEnvironments(configFile?: string): Record<string, Environment> {
  if (!configFile || !fs.existsSync(configFile)) return { ...ENVIRONMENTS };
  let data: unknown;
  try {
    data = YAML.parse(fs.readFileSync(configFile, "utf8"), { prettyErrors: true }) ?? {};
  } catch (e) {
    throw new ConfigError(configFile, [`not valid YAML: ${(e as Error).message.split("\n")[0]}`]);
  }
  const schema = configFileSchema(ENVIRONMENT_NAMES);
  const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
  const validate = ajv.compile(schema);
  if (!validate(data)) throw new ConfigError(configFile, describeAjvErrors(validate.errors ?? [], data, (p) => schemaAt(schema, p)));
  const overrides = ((data as { environments?: Record<string, unknown> }).environments ?? {}) as Record<string, unknown>;
  const result: Record<string, Environment> = {};
  for (const name of ENVIRONMENT_NAMES) {
    result[name] = validateEnvironment(mergeOverride(ENVIRONMENTS[name], overrides[name]), `${configFile} (environments.${name})`);
  }
  return result;
}
