import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";

/** A resource the program registered, as the engine would receive it. */
export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
}

const ROOT = path.resolve(__dirname, "..", "..");

/** The `config:` of a stack file, as Pulumi hands it to the program (`project:key` -> string). */
export function stackConfig(stack: string): Record<string, string> {
  const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
  const config = (YAML.parse(fs.readFileSync(file, "utf8"))?.config ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

/**
 * Runs the Stratum Pulumi program for one stack under `pulumi.runtime.setMocks` (no CLI, no cloud) and returns every
 * registered resource. Each call loads fresh modules, so stacks do not share runtime state.
 */
export async function runProgram(stack: string, config: Record<string, string> = stackConfig(stack)): Promise<{ resources: Registered[]; error?: Error }> {
  const resources: Registered[] = [];
  let error: Error | undefined;
  await jestIsolated(async () => {
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    pulumi.runtime.setAllConfig(config);
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          resources.push({ type: args.type, name: args.name, inputs: args.inputs });
          const state: Record<string, unknown> = { ...args.inputs, arn: `arn:aws:mock::123456789012:${args.name}` };
          if (args.type === "aws:eks/cluster:Cluster") {
            Object.assign(state, { name: args.name, endpoint: "https://mock.eks.amazonaws.com", certificateAuthority: { data: "Q0E=" }, identities: [{ oidcs: [{ issuer: "https://oidc.eks.eu-west-1.amazonaws.com/id/MOCK" }] }] });
          }
          if (args.type === "aws:s3/bucket:Bucket") state.bucket = args.inputs.bucket;
          if (args.type === "aws:ecr/repository:Repository") state.repositoryUrl = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${args.inputs.name}`;
          if (args.type === "aws:cloudfront/distribution:Distribution") state.domainName = "d111111abcdef8.cloudfront.net";
          return { id: `${args.name}-id`, state };
        },
        call: (args) => args.inputs,
      },
      "stratum",
      stack,
      false,
    );
    const { stratumProgram } = require("../../stacks/pulumi/program") as typeof import("../../stacks/pulumi/program");
    try {
      const out = stratumProgram(stack, "does-not-exist.yaml");
      await new Promise((resolve) => out.cdnDomain.apply(resolve));
      await new Promise((resolve) => out.clusterName.apply(resolve));
      // let every pending registration reach the mock
      let count = -1;
      while (count !== resources.length) {
        count = resources.length;
        await new Promise((r) => setTimeout(r, 50));
      }
    } catch (e) {
      error = e as Error;
    }
  });
  return { resources, error };
}

async function jestIsolated(fn: () => Promise<void>): Promise<void> {
  let promise: Promise<void> = Promise.resolve();
  jest.isolateModules(() => {
    promise = fn();
  });
  await promise;
}
