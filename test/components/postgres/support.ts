import { App, Testing } from "cdk8s";
import { ObjectStorage } from "../../../components/object-storage";
import { Postgres, PostgresProps } from "../../../components/postgres";
import { Environment } from "../../../stacks/environments";
import { Platform } from "../../../stacks/platform";

/** A platform with object storage, PostgreSQL and services that consume it; finalized, objects synthesized. */
export function postgresPlatform(environment: Environment, props: PostgresProps = {}, consumers: ReadonlyArray<string> = ["order", "payment"]) {
  const platform = new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), environment.name, { environment });
  const storage = platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c));
  const postgres = platform.add((s, c) => new Postgres(s, "Postgres", c, props));
  for (const name of consumers) platform.addService({ name, image: `ghcr.io/acme/${name}:1.0.0`, consumes: ["postgres"] });
  platform.finalize();
  const objects = platform.components.flatMap((c) => Testing.synth(c));
  const find = (kind: string, name: string) => {
    const hit = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!hit) throw new Error(`no ${kind} ${name}; ${kind}s: ${objects.filter((o) => o.kind === kind).map((o) => o.metadata.name).join(", ")}`);
    return hit;
  };
  return { platform, storage, postgres, objects, find };
}
