import * as fs from "node:fs";
import * as path from "node:path";
import { graphPage } from "../../stacks/graph";

const root = path.resolve(__dirname, "..", "..");

describe("npm run graph", () => {
  const page = graphPage("dev", path.join(root, "does-not-exist.yaml"));
  const mermaid = /```mermaid\n[\s\S]*?```\n/.exec(page)![0];

  it("draws the graph as a Mermaid flowchart with one line per edge", () => {
    expect(mermaid).toMatch(/^```mermaid\nflowchart LR\n/);
    expect(mermaid).toContain("order -->|http| payment");
    expect(page).toContain("| order | payment | http |");
  });

  it("is what docs/service-graph.md and the README show (regenerate with npm run graph)", () => {
    expect(fs.readFileSync(path.join(root, "docs", "service-graph.md"), "utf8")).toBe(page);
    expect(fs.readFileSync(path.join(root, "README.md"), "utf8")).toContain(mermaid);
  });

  it("refuses an unknown environment, naming the allowed ones", () => {
    expect(() => graphPage("qa")).toThrow('unknown environment "qa"; allowed: dev, staging, prod');
  });
});
