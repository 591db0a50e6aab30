import { createHash } from "node:crypto";
import { Readable, Transform } from "node:stream";
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

/** Where files go: an S3 bucket (AWS, or any S3-compatible server through `endpoint`). */
export interface StorageConfig {
  readonly bucket: string;
  readonly region: string;
  /** S3-compatible endpoint (path-style addressing is used with it). @default AWS */
  readonly endpoint?: string;
  /** Part size of multipart uploads, bytes: memory per upload is about partSize * (queueSize + 1). */
  readonly partSizeBytes: number;
  /** Parts uploaded in parallel per upload. */
  readonly queueSize: number;
}

/** A body larger than the limit. */
export class TooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`body exceeds the limit of ${limit} bytes`);
    this.name = "TooLargeError";
  }
}

/**
 * Object storage over the S3 API. Uploads stream: bytes flow from the request through a counter and a SHA-256 into
 * a multipart upload, so memory stays at a few parts whatever the file size.
 */
export class ObjectStorage {
  readonly client: S3Client;

  constructor(readonly config: StorageConfig, client?: S3Client) {
    // credentials come from the default chain (env, web identity on EKS); an S3-compatible server takes the same
    this.client = client ?? new S3Client({ region: config.region, endpoint: config.endpoint, forcePathStyle: Boolean(config.endpoint) });
  }

  /**
   * Streams `source` to `key`, refusing more than `maxBytes`; returns size, hex SHA-256, and the most bytes that were
   * ever read from the source but not yet acknowledged by S3 (what the upload held in memory at its peak).
   */
  async upload(key: string, source: Readable, contentType: string, maxBytes: number): Promise<{ size: number; sha256: string; peakBufferedBytes: number }> {
    const hash = createHash("sha256");
    let size = 0;
    let acknowledged = 0;
    let peakBufferedBytes = 0;
    let tooLarge = false;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > maxBytes) {
          tooLarge = true;
          cb(new TooLargeError(maxBytes));
          return;
        }
        hash.update(chunk);
        peakBufferedBytes = Math.max(peakBufferedBytes, size - acknowledged);
        cb(null, chunk);
      },
    });
    const onSourceError = (e: Error) => meter.destroy(e);
    const onAborted = () => { if (!meter.writableFinished) meter.destroy(new Error("client closed the connection before the body was complete")); };
    source.once("error", onSourceError);
    source.once("aborted", onAborted);
    source.pipe(meter);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.config.bucket, Key: key, Body: meter, ContentType: contentType },
      partSize: this.config.partSizeBytes,
      queueSize: this.config.queueSize,
      leavePartsOnError: false,
    });
    upload.on("httpUploadProgress", (p) => { acknowledged = Math.max(acknowledged, p.loaded ?? 0); });
    try {
      await upload.done();
    } catch (e) {
      if (tooLarge) throw new TooLargeError(maxBytes);
      throw e;
    } finally {
      source.off("error", onSourceError);
      source.off("aborted", onAborted);
    }
    if (tooLarge) throw new TooLargeError(maxBytes);
    return { size, sha256: hash.digest("hex"), peakBufferedBytes };
  }

  /** Writes a small object. */
  async put(key: string, body: string | Buffer, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.config.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  /** Reads an object as a stream. */
  async get(key: string, signal?: AbortSignal): Promise<Readable> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key }), { abortSignal: signal });
    return r.Body as Readable;
  }

  /** Deletes an object (missing objects are fine). */
  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: key }));
  }

  /** Lists objects under a prefix, page by page. */
  async *list(prefix: string, signal?: AbortSignal): AsyncGenerator<{ key: string; size: number }> {
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal });
      for (const o of r.Contents ?? []) yield { key: o.Key ?? "", size: Number(o.Size ?? 0) };
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  }
}
