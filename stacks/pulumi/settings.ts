import Ajv from "ajv";
import { ConfigError, describeAjvErrors } from "../environments/errors";

/** What a Pulumi stack adds to its environment: the cloud shape that only the Pulumi exit needs. */
export interface StackSettings {
  /** EKS Kubernetes version (1.28 or newer; the operators' compatibility tops out at 1.30). */
  readonly kubernetesVersion: string;
  /** The managed node group. */
  readonly nodeGroup: { readonly instanceTypes: ReadonlyArray<string>; readonly minSize: number; readonly desiredSize: number; readonly maxSize: number };
  /** One NAT gateway per zone (highly available egress) instead of one shared. */
  readonly natPerZone: boolean;
  /** The API endpoint is reachable only from inside the VPC. */
  readonly privateEndpoint: boolean;
  /** CIDRs allowed to the public API endpoint (when it is public). */
  readonly publicAccessCidrs: ReadonlyArray<string>;
  /** AWS Shield Advanced on the CDN (a subscription is required). */
  readonly ddosProtection: boolean;
  /** DNS name of the ingress load balancer, the CDN's origin. */
  readonly originDomain: string;
  /** Requests per 5 minutes per client IP before the WAF blocks it. */
  readonly wafRateLimit: number;
}

/** JSON schema of the settings (the same shape as Pulumi.yaml's config types). */
export const STACK_SETTINGS_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["kubernetesVersion", "nodeGroup", "natPerZone", "privateEndpoint", "publicAccessCidrs", "ddosProtection", "originDomain", "wafRateLimit"],
  properties: {
    kubernetesVersion: { type: "string", enum: ["1.28", "1.29", "1.30"] },
    nodeGroup: {
      type: "object",
      additionalProperties: false,
      required: ["instanceTypes", "minSize", "desiredSize", "maxSize"],
      properties: {
        instanceTypes: { type: "array", minItems: 1, items: { type: "string", pattern: "^[a-z][a-z0-9-]*\\.[a-z0-9]+$" } },
        minSize: { type: "integer", minimum: 1, maximum: 100 },
        desiredSize: { type: "integer", minimum: 1, maximum: 100 },
        maxSize: { type: "integer", minimum: 1, maximum: 100 },
      },
    },
    natPerZone: { type: "boolean" },
    privateEndpoint: { type: "boolean" },
    publicAccessCidrs: { type: "array", items: { type: "string", pattern: "^([0-9]{1,3}\\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$" } },
    ddosProtection: { type: "boolean" },
    originDomain: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$" },
    wafRateLimit: { type: "integer", minimum: 100, maximum: 2000000000 },
  },
} as const;

/** Defaults for the keys a stack file leaves out. */
export const DEFAULT_SETTINGS: StackSettings = {
  kubernetesVersion: "1.30",
  nodeGroup: { instanceTypes: ["m6i.large"], minSize: 2, desiredSize: 2, maxSize: 4 },
  natPerZone: false,
  privateEndpoint: false,
  publicAccessCidrs: [],
  ddosProtection: false,
  originDomain: "ingress.invalid.example.com",
  wafRateLimit: 2000,
};

/** Checks stack settings (all errors at once, each naming the key, the value and what is allowed). */
export function validateSettings(value: unknown, source: string): StackSettings {
  const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
  const validate = ajv.compile(STACK_SETTINGS_SCHEMA);
  if (!validate(value)) throw new ConfigError(source, describeAjvErrors(validate.errors ?? [], value, () => STACK_SETTINGS_SCHEMA.properties));
  const s = value as StackSettings;
  const n = s.nodeGroup;
  if (!(n.minSize <= n.desiredSize && n.desiredSize <= n.maxSize)) {
    throw new ConfigError(source, [`nodeGroup: needs minSize <= desiredSize <= maxSize (got ${n.minSize}, ${n.desiredSize}, ${n.maxSize})`]);
  }
  if (!s.privateEndpoint && s.publicAccessCidrs.length === 0) {
    throw new ConfigError(source, ["publicAccessCidrs: a public API endpoint needs the CIDRs allowed to reach it (or set privateEndpoint: true)"]);
  }
  if (s.publicAccessCidrs.includes("0.0.0.0/0")) throw new ConfigError(source, ['publicAccessCidrs: must not contain "0.0.0.0/0"']);
  return s;
}
