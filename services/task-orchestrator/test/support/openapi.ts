import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import * as YAML from "yaml";

/** The service's OpenAPI document, loaded from services/task-orchestrator/openapi.yaml. */
export const openapi = YAML.parse(fs.readFileSync(path.join(__dirname, "..", "..", "openapi.yaml"), "utf8"));

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addSchema(openapi, "openapi");

function deref(node: Record<string, any>): Record<string, any> {
  let cur = node;
  while (cur && cur.$ref) {
    const parts = String(cur.$ref).replace(/^#\//, "").split("/");
    cur = parts.reduce((o: any, p) => o?.[p.replace(/~1/g, "/").replace(/~0/g, "~")], openapi);
  }
  return cur;
}

/**
 * Asserts that a response matches the document: the operation declares the status, and the JSON body validates
 * against the declared schema. `route` is the OpenAPI path template (`/v1/tasks/{id}`).
 */
export function expectConforms(method: string, route: string, status: number, body: unknown): void {
  const op = openapi.paths?.[route]?.[method.toLowerCase()];
  if (!op) throw new Error(`openapi.yaml has no operation ${method} ${route}`);
  const response = op.responses?.[String(status)];
  if (!response) throw new Error(`openapi.yaml: ${method} ${route} does not declare status ${status}; declared: ${Object.keys(op.responses).join(", ")}`);
  const schemaNode = deref(response).content?.["application/json"]?.schema;
  if (!schemaNode?.$ref) throw new Error(`openapi.yaml: ${method} ${route} ${status} has no JSON schema reference`);
  const validate = ajv.getSchema(`openapi${schemaNode.$ref}`);
  if (!validate) throw new Error(`cannot compile ${schemaNode.$ref}`);
  if (!validate(body)) {
    throw new Error(`${method} ${route} ${status}: body does not match ${schemaNode.$ref}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
  }
}
