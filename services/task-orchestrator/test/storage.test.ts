import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { ObjectStorage, TooLargeError } from "../src/storage";
import { startS3, TestS3 } from "./support/s3";

let s3: TestS3;
let storage: ObjectStorage;
const PART = 5 * 1024 * 1024;

beforeAll(async () => {
  s3 = await startS3("stream");
  storage = new ObjectStorage({ bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint, partSizeBytes: PART, queueSize: 2 }, s3.client());
});

afterAll(async () => {
  await s3?.stop();
});

/** `total` bytes produced lazily from one reused chunk: the source itself holds 1 MiB at most. */
function generated(total: number): Readable {
  const chunk = Buffer.alloc(1024 * 1024, 120);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) { this.push(null); return; }
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

describe("ObjectStorage.upload", () => {
  it("streams a file much larger than its buffers: at most a few parts are held at any time", async () => {
    const total = 48 * 1024 * 1024;
    const r = await storage.upload("big/file.bin", generated(total), "application/octet-stream", 64 * 1024 * 1024);
    expect(r.size).toBe(total);
    const expected = createHash("sha256");
    const chunk = Buffer.alloc(1024 * 1024, 120);
    for (let i = 0; i < 48; i++) expected.update(chunk);
    expect(r.sha256).toBe(expected.digest("hex"));
    // parts in flight (queueSize), the one being filled, and stream buffers: far below the file's 48 MiB
    expect(r.peakBufferedBytes).toBeLessThanOrEqual(PART * 4);
    const head = await s3.client().send(new HeadObjectCommand({ Bucket: s3.bucket, Key: "big/file.bin" }));
    expect(Number(head.ContentLength)).toBe(total);
  });

  it("stops at the limit, aborts the multipart upload and leaves no object", async () => {
    await expect(storage.upload("big/too-large.bin", generated(20 * 1024 * 1024), "application/octet-stream", 12 * 1024 * 1024)).rejects.toBeInstanceOf(TooLargeError);
    const listed = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: "big/too-large" }));
    expect(listed.Contents ?? []).toEqual([]);
  });
});
