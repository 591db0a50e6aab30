import * as http from "node:http";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { startPostgres, TestPostgres } from "../../../test/support/postgres";
import { Logger } from "../src/logger";
import { eventually, startApp, testConfig } from "./support/harness";
import { startS3, TestS3 } from "./support/s3";

let pg: TestPostgres;
let s3: TestS3;
let h: Awaited<ReturnType<typeof startApp>>;
const logged: Array<{ level: string; msg: string }> = [];
const log: Logger = {
  info: (msg) => logged.push({ level: "info", msg }),
  warn: (msg) => logged.push({ level: "warn", msg }),
  error: (msg) => logged.push({ level: "error", msg }),
};

beforeAll(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startS3()]);
  const config = testConfig(await pg.createDatabase(), { storage: { bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint }, worker: { enabled: false } });
  h = await startApp(config, { s3Client: s3.client(), log });
});

afterAll(async () => {
  await h?.app.stop();
  await Promise.all([pg?.stop(), s3?.stop()]);
});

/** Sends the first part of a body that declares more, then closes the connection. */
async function abandon(method: string, path: string, contentType: string, first: Buffer): Promise<void> {
  const req = http.request(`${h.base}${path}`, { method, headers: { "content-type": contentType, "content-length": String(first.length * 4) } });
  req.on("error", () => undefined);
  req.write(first);
  await new Promise((r) => setTimeout(r, 300));
  req.destroy();
}

const httpCounts = async () => {
  const text = await (await fetch(`http://127.0.0.1:${h.app.metricsPort}/metrics`)).text();
  return text.split("\n").filter((l) => l.startsWith("http_requests_total{"));
};

describe("a client that closes the connection mid-body", () => {
  it("is counted as 499 (client closed request), not as a 5xx of ours, logs no error, and leaves no staging object", async () => {
    const t = await h.call("POST", "/v1/tasks", { type: "import", parameters: { file: "a.csv", format: "csv", target: "t" } });
    expect(t.status).toBe(201);
    await abandon("POST", "/v1/tasks", "application/json", Buffer.from(`{"type":"batch","parameters":{"items":["${"a".repeat(1000)}`));
    await abandon("PUT", `/v1/tasks/${t.body.id}/files/a.csv`, "text/csv", Buffer.alloc(64 * 1024, 0x61));
    const lines = await eventually(async () => {
      const l = await httpCounts();
      return l.filter((x) => /method="(POST|PUT)"/.test(x) && !/status="201"/.test(x)).length >= 2 ? l : undefined;
    }, 10000, "both abandoned requests to be counted");
    expect(lines).toContainEqual(expect.stringMatching(/^http_requests_total\{method="POST",route="\/v1\/tasks",status="499"\} 1$/));
    expect(lines).toContainEqual(expect.stringMatching(/^http_requests_total\{method="PUT",route="\/v1\/tasks\/\{id\}\/files\/\{name\}",status="499"\} 1$/));
    expect(lines.filter((l) => /status="5\d\d"/.test(l))).toEqual([]);
    expect(logged.filter((l) => l.level === "error")).toEqual([]);
    const staged = await eventually(async () => {
      const r = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket }));
      return (r.Contents ?? []).length === 0 ? [] : undefined;
    }, 5000, "the staging object to be deleted");
    expect(staged).toEqual([]);
    // the task still waits for its file, and a complete upload is taken
    expect((await h.call("GET", `/v1/tasks/${t.body.id}`)).body).toMatchObject({ state: "pending", awaitingFile: "a.csv" });
  });
});
