// One synth process with N generated business services added to every environment; prints nothing but errors.
// Used by synth.bench.js to time the whole process (start-up included), as a user's `npm run synth` would pay it.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { ENVIRONMENTS, synthEnvironment, writeOutputs } = require("../lib/stacks");

const count = Number(process.argv[2] ?? 0);
const out = process.argv[3] ?? fs.mkdtempSync(path.join(os.tmpdir(), "stratum-bench-"));
const customize = (platform) => {
  for (let i = 0; i < count; i++) {
    const previous = i > 0 ? [`gen-${String(i - 1).padStart(4, "0")}`] : [];
    platform.addService({
      name: `gen-${String(i).padStart(4, "0")}`,
      image: "ghcr.io/stratum-platform/samples/generated:1.0.0",
      consumes: [...previous, "catalog"],
      routes: [{ pathPrefix: `/api/gen-${i}` }],
    });
  }
};
const results = Object.values(ENVIRONMENTS).map((env) => synthEnvironment(env, { customize }));
writeOutputs(out, results);
const objects = results.reduce((n, r) => n + r.objects.length, 0);
process.stdout.write(JSON.stringify({ objects }) + "\n");
