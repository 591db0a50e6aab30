#!/usr/bin/env node
// Bundles each runtime service (services/<name>/src/main.ts) into one minified file with a source map:
// lib/assets/<name>/index.js. The same bundle is what `npm run start:<name>` runs, what the asset ConfigMap ships,
// and what each service's Dockerfile copies into its image.
import { build } from "esbuild";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const servicesDir = path.join(root, "services");
const only = process.argv.slice(2);
const names = fs.existsSync(servicesDir)
  ? fs.readdirSync(servicesDir).filter((n) => fs.existsSync(path.join(servicesDir, n, "src", "main.ts"))).sort()
  : [];
for (const name of names) {
  if (only.length && !only.includes(name)) continue;
  const outfile = path.join(root, "lib", "assets", name, "index.js");
  await build({
    entryPoints: [path.join(servicesDir, name, "src", "main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: true,
    sourcemap: "external",
    sourcesContent: false,
    legalComments: "none",
    logLevel: "warning",
    // optional native accelerators of some libraries; the pure-JS paths are used without them
    external: ["pg-native", "bufferutil", "utf-8-validate"],
  });
  const size = fs.statSync(outfile).size;
  console.log(`bundled ${name}: ${path.relative(root, outfile)} (${(size / 1024).toFixed(0)} KiB)`);
}
