#!/usr/bin/env node
// Copies the non-TypeScript files the compiled output needs next to it (the CrossGuard pack's PulumiPolicy.yaml).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
for (const file of ["policies/pulumi/PulumiPolicy.yaml"]) {
  const target = path.join(root, "lib", file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(path.join(root, file), target);
}
