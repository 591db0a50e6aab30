/** Tests: unit tests under test/ mirror the source path; each runtime service keeps its own under services/<name>/test. */
module.exports = {
  testEnvironment: "node",
  transform: { "^.+\\.tsx?$": ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "typescript" } }, module: { type: "commonjs" } }] },
  testMatch: ["<rootDir>/test/**/*.test.ts", "<rootDir>/services/*/test/**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/lib/", "/dist/"],
  testTimeout: 60000,
  globalSetup: "<rootDir>/test/global-setup.js",
};
