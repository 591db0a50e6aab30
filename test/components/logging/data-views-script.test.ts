import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { dataViewsProgram, DataViewsConfig } from "../../../components/logging/data-views-script";

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }

/** A stand-in Kibana on loopback: answers from `reply`, records every request. */
async function fakeKibana(reply: (req: Seen, n: number) => [number, unknown]): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const s = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body };
      seen.push(s);
      const [status, payload] = reply(s, seen.length);
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

const config: DataViewsConfig = {
  dataViews: [{ id: "logs-k8s", title: "logs-k8s-*", name: "Kubernetes logs", timeFieldName: "@timestamp" }],
  defaultId: "logs-k8s",
  deadlineSeconds: 5,
  maxBackoffMs: 200,
};

function run(url: string, cfg: DataViewsConfig = config): Promise<{ code: number; stdout: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-data-views-"));
  fs.writeFileSync(path.join(dir, "main.js"), dataViewsProgram());
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(cfg));
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(dir, "main.js")], {
      env: { KIBANA_URL: url, KIBANA_USERNAME: "elastic", KIBANA_PASSWORD: "s3cret", DATA_VIEWS_CONFIG: path.join(dir, "config.json") },
      timeout: 20000,
    }, (error, stdout) => {
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout });
    });
  });
}

const available = { status: { overall: { level: "available" } } };

describe("the Kibana data views program", () => {
  it("waits until Kibana is available, then creates the data view by id (replacing it) and makes it the default", async () => {
    const kibana = await fakeKibana((req, n) => (req.url === "/api/status" ? (n < 3 ? [503, { status: { overall: { level: "unavailable" } } }] : [200, available]) : [200, {}]));
    try {
      const { code, stdout } = await run(kibana.url);
      expect(code).toBe(0);
      expect(kibana.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
        "GET /api/status", "GET /api/status", "GET /api/status", "POST /api/data_views/data_view", "POST /api/data_views/default",
      ]);
      const create = kibana.seen[3];
      expect(JSON.parse(create.body)).toEqual({ data_view: { id: "logs-k8s", title: "logs-k8s-*", name: "Kubernetes logs", timeFieldName: "@timestamp" }, override: true });
      expect(create.headers["kbn-xsrf"]).toBe("stratum");
      expect(create.headers.authorization).toBe(`Basic ${Buffer.from("elastic:s3cret").toString("base64")}`);
      expect(JSON.parse(kibana.seen[4].body)).toEqual({ data_view_id: "logs-k8s", force: true });
      expect(stdout).toContain('"msg":"default data view set"');
      expect(stdout).not.toContain("s3cret");
    } finally {
      await kibana.close();
    }
  });

  it("is idempotent: a second run replaces the same data view and succeeds again", async () => {
    const kibana = await fakeKibana((req) => (req.url === "/api/status" ? [200, available] : [200, {}]));
    try {
      expect((await run(kibana.url)).code).toBe(0);
      expect((await run(kibana.url)).code).toBe(0);
      const creates = kibana.seen.filter((s) => s.url === "/api/data_views/data_view").map((s) => s.body);
      expect(creates).toHaveLength(2);
      expect(creates[0]).toBe(creates[1]);
    } finally {
      await kibana.close();
    }
  });

  it("stops at once, naming status and body, when Kibana refuses the request", async () => {
    const kibana = await fakeKibana((req) => (req.url === "/api/status" ? [200, available] : [400, { message: "[request body.data_view.title]: expected value of type [string]" }]));
    try {
      const { code, stdout } = await run(kibana.url);
      expect(code).toBe(1);
      expect(stdout).toContain("POST /api/data_views/data_view answered 400");
      expect(kibana.seen.filter((s) => s.url === "/api/data_views/data_view")).toHaveLength(1);
    } finally {
      await kibana.close();
    }
  });

  it("retries a Kibana that never becomes available until the deadline, then fails so that the Job retries", async () => {
    const kibana = await fakeKibana(() => [503, { status: { overall: { level: "unavailable" } } }]);
    try {
      const { code, stdout } = await run(kibana.url, { ...config, deadlineSeconds: 1 });
      expect(code).toBe(1);
      expect(stdout).toContain("waiting for Kibana: gave up at the deadline");
      expect(kibana.seen.length).toBeGreaterThan(1);
    } finally {
      await kibana.close();
    }
  });
});
