/**
 * The loader a runtime asset's pods start: it inflates the gzip-compressed bundle next to it and runs it as the main
 * module, with the path and arguments the bundle would have had as `index.js`. Bundles are compressed because a
 * ConfigMap holds at most 1 MiB, and the larger bundles come close to that uncompressed.
 */
export const BOOT_SCRIPT = `"use strict";
// Stratum runtime asset loader: runs the gzip-compressed bundle index.js.gz beside this file as the main module.
const fs = require("node:fs");
const path = require("node:path");
const zlib = require("node:zlib");
const Module = require("node:module");
const file = path.join(__dirname, "index.js");
const code = zlib.gunzipSync(fs.readFileSync(file + ".gz")).toString("utf8");
const main = new Module(file, null);
main.filename = file;
main.paths = Module._nodeModulePaths(__dirname);
main.id = ".";
// the bundle's require.main is process.mainModule at compile time
process.mainModule = main;
main._compile(code, file);
main.loaded = true;
`;
