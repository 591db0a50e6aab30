import * as fs from "node:fs";
import { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
// s3rver ships no types
// eslint-disable-next-line @typescript-eslint/no-var-requires
const S3rver = require("s3rver");

/** A throwaway S3-compatible server (s3rver) on a random loopback port, with one bucket, in a temp folder. */
export interface TestS3 {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  /** A client for the server. */
  client(): S3Client;
  stop(): Promise<void>;
}

/** Starts s3rver; call `stop()` in afterAll. */
export async function startS3(bucket = "tasks"): Promise<TestS3> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-s3-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  const { port } = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  // s3rver accepts any signature made with its default key pair
  process.env.AWS_ACCESS_KEY_ID ??= "S3RVER";
  process.env.AWS_SECRET_ACCESS_KEY ??= "S3RVER";
  const clients: S3Client[] = [];
  return {
    endpoint,
    bucket,
    region: "us-east-1",
    client() {
      const c = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.destroy();
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
