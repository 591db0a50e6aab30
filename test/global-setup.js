// Bundles the runtime services once before the suite, so that asset constructs and service tests run the real bundle.
const { execFileSync } = require("node:child_process");
const path = require("node:path");
module.exports = async () => {
  execFileSync(process.execPath, [path.join(__dirname, "..", "scripts", "bundle-services.mjs")], { stdio: "inherit" });
};
