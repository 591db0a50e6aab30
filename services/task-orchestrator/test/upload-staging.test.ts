import { createHash } from "node:crypto";
import * as http from "node:http";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { startPostgres, TestPostgres } from "../../../test/support/postgres";
import { startApp, testConfig } from "./support/harness";
import { expectConforms } from "./support/openapi";
import { startS3, TestS3 } from "./support/s3";

let pg: TestPostgres;
let s3: TestS3;
let h: Awaited<ReturnType<typeof startApp>>;

beforeAll(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startS3()]);
  const config = testConfig(await pg.createDatabase(), { storage: { bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint } });
  h = await startApp(config, { s3Client: s3.client() });
});

afterAll(async () => {
  await h?.app.stop();
  await Promise.all([pg?.stop(), s3?.stop()]);
});

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

async function importTask(file: string): Promise<string> {
  const r = await h.call("POST", "/v1/tasks", { type: "import", parameters: { file, format: "csv", target: "t" } });
  return r.body.id;
}

/** Starts a PUT whose body is sent in two steps: `finish()` sends the rest and resolves with the answer. */
function slowPut(path: string, first: string, rest: string, headers: Record<string, string> = {}) {
  let answer!: Promise<{ status: number; body: any }>;
  const req = http.request(`${h.base}${path}`, { method: "PUT", headers: { "content-type": "text/csv", "transfer-encoding": "chunked", ...headers } });
  answer = new Promise((resolve, reject) => {
    req.on("response", (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on("error", reject);
  });
  req.write(first);
  return { finish: () => { req.end(rest); return answer; } };
}

function put(path: string, body: string, headers: Record<string, string> = {}) {
  const r = slowPut(path, body, "", headers);
  return r.finish();
}

async function stored(key: string): Promise<string | undefined> {
  try {
    const o = await s3.client().send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return await o.Body!.transformToString();
  } catch (e) {
    if ((e as Error).name === "NoSuchKey") return undefined;
    throw e;
  }
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

describe("uploads go through a staging object", () => {
  it("keeps the stored file when a re-upload of the same name fails its checksum", async () => {
    // the task waits for another file, so it stays pending and keeps taking uploads
    const id = await importTask("main.csv");
    const first = await put(`/v1/tasks/${id}/files/side.csv`, "a,b\n1,2\n");
    expect(first.status).toBe(201);
    const bad = await put(`/v1/tasks/${id}/files/side.csv`, "other\n", { "x-checksum-sha256": "0".repeat(64) });
    expect(bad.status).toBe(400);
    expectConforms("PUT", "/v1/tasks/{id}/files/{name}", 400, bad.body);
    expect(bad.body).toMatchObject({ error: "checksum_mismatch", fields: [{ field: "X-Checksum-SHA256" }] });
    expect(await stored(`tasks/${id}/side.csv`)).toBe("a,b\n1,2\n");
    expect((await h.call("GET", `/v1/tasks/${id}/files`)).body.items).toMatchObject([{ name: "side.csv", sha256: sha("a,b\n1,2\n"), size: 8 }]);
    expect(await keysUnder(`staging/${id}/`)).toEqual([]);
  });

  it("leaves the task's input untouched when an upload is refused because the task started meanwhile", async () => {
    const id = await importTask("data.csv");
    const slow = slowPut(`/v1/tasks/${id}/files/data.csv`, "late,", "upload\n");
    await new Promise((r) => setTimeout(r, 200)); // the slow upload is past the task's state check
    const good = await put(`/v1/tasks/${id}/files/data.csv`, "a,b\n1,2\n");
    expect(good.status).toBe(201);
    const done = await (async () => {
      for (let i = 0; i < 300; i++) {
        const t = (await h.call("GET", `/v1/tasks/${id}`)).body;
        if (t.state === "completed") return t;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error("the import did not complete");
    })();
    expect(done.result).toMatchObject({ records: 2 });
    const late = await slow.finish();
    expect(late.status).toBe(409);
    expectConforms("PUT", "/v1/tasks/{id}/files/{name}", 409, late.body);
    const [record] = (await h.call("GET", `/v1/tasks/${id}/files`)).body.items;
    expect(record.sha256).toBe(sha("a,b\n1,2\n"));
    expect(await stored(`tasks/${id}/data.csv`)).toBe("a,b\n1,2\n");
    expect(await keysUnder(`staging/${id}/`)).toEqual([]);
  });

  it("ends concurrent uploads of one name with the record and the object of the same upload", async () => {
    const id = await importTask("main.csv");
    const bodies = Array.from({ length: 6 }, (_, i) => `upload-${i}\n`.repeat(1 + i * 500));
    const slow = bodies.map((b) => slowPut(`/v1/tasks/${id}/files/same.csv`, b.slice(0, 3), b.slice(3)));
    const answers = await Promise.all(slow.map((s) => s.finish()));
    expect(answers.map((a) => a.status)).toEqual(bodies.map(() => 201));
    const [record] = (await h.call("GET", `/v1/tasks/${id}/files`)).body.items;
    const object = await stored(`tasks/${id}/same.csv`);
    expect(sha(object!)).toBe(record.sha256);
    expect(await keysUnder(`staging/${id}/`)).toEqual([]);
  });
});
