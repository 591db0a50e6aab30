import { dev, Environment, mergeOverride, prod, staging, validateEnvironment } from "../../../stacks/environments";
import { postgresPlatform } from "./support";

describe("PostgreSQL and object storage sizing", () => {
  it("accepts the shipped tiers", () => {
    for (const env of [dev, staging, prod]) expect(() => validateEnvironment(env)).not.toThrow();
  });

  it("rejects bad overrides with the field named", () => {
    const bad = mergeOverride<Environment>(prod, {
      sizing: { postgres: { instances: 0, backupRetention: "30 days", pooler: { readOnly: "yes" } }, objectStorage: { bucketPrefix: "Stratum_Prod" } },
    });
    let message = "";
    try {
      validateEnvironment(bad);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/sizing\.postgres\.instances/);
    expect(message).toMatch(/sizing\.postgres\.backupRetention/);
    expect(message).toMatch(/sizing\.postgres\.pooler\.readOnly/);
    expect(message).toMatch(/sizing\.objectStorage\.bucketPrefix/);
  });

  it("refuses more synchronous replicas than there are replicas, at construction", () => {
    const single = mergeOverride<Environment>(prod, { sizing: { postgres: { instances: 1 } } });
    expect(() => postgresPlatform(single)).toThrow("sizing.postgres.synchronousReplicas must be between 0 and instances - 1 = 0 (got 1)");
  });
});
