import { createHash } from "node:crypto";
import { Readable, Transform } from "node:stream";
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
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
  /** Longest wait for a TCP connection to the object store, ms. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** Longest time from sending a request to its response headers (the body of an upload part included), ms. @default 300000 */
  readonly requestTimeoutMs?: number;
  /** Longest time a connection may stay silent, while sending or receiving (a download's body included), ms. @default 30000 */
  readonly socketTimeoutMs?: number;
}

/** The largest object one CopyObject request copies, and so the largest upload (uploads are copied into place). */
export const MAX_COPY_BYTES = 5 * 1024 * 1024 * 1024;

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
    // credentials come from the default chain (env, web identity on EKS); an S3-compatible server takes the same.
    // Without timeouts a store that accepts connections but never answers would hold a task (its heartbeats keeping
    // the lease alive) or an upload forever.
    this.client = client ?? new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: Boolean(config.endpoint),
      requestHandler: {
        connectionTimeout: config.connectTimeoutMs ?? 5000,
        requestTimeout: config.requestTimeoutMs ?? 300000,
        throwOnRequestTimeout: true,
        socketTimeout: config.socketTimeoutMs ?? 30000,
      },
    });
  }

  /**
   * Streams `source` to `key`, refusing more than `maxBytes`; returns size, hex SHA-256, and the most bytes that were
   * ever read from the source but not yet acknowledged by S3 (what the upload held in memory at its peak). Aborting
   * `signal` abandons the upload (its parts are aborted) and rejects with the signal's reason.
   */
  async upload(key: string, source: Readable, contentType: string, maxBytes: number, signal?: AbortSignal): Promise<{ size: number; sha256: string; peakBufferedBytes: number }> {
    signal?.throwIfAborted();
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
    const onAbort = () => {
      void upload.abort();
      meter.destroy(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await upload.done();
    } catch (e) {
      if (tooLarge) throw new TooLargeError(maxBytes);
      if (signal?.aborted) throw signal.reason;
      throw e;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      source.off("error", onSourceError);
      source.off("aborted", onAborted);
    }
    if (tooLarge) throw new TooLargeError(maxBytes);
    return { size, sha256: hash.digest("hex"), peakBufferedBytes };
  }

  /** Writes a small object. */
  async put(key: string, body: string | Buffer, contentType: string, signal?: AbortSignal): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.config.bucket, Key: key, Body: body, ContentType: contentType }), { abortSignal: signal });
  }

  /** Copies an object (content type included) within the bucket; the target is replaced at once, never partly. */
  async copy(from: string, to: string, signal?: AbortSignal): Promise<void> {
    const source = `${this.config.bucket}/${from.split("/").map(encodeURIComponent).join("/")}`;
    await this.client.send(new CopyObjectCommand({ Bucket: this.config.bucket, Key: to, CopySource: source }), { abortSignal: signal });
  }

  /** Reads an object as a stream; aborting `signal` also ends a stream already returned. */
  async get(key: string, signal?: AbortSignal): Promise<Readable> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key }), { abortSignal: signal });
    const body = r.Body as Readable;
    if (signal) {
      const onAbort = () => body.destroy(signal.reason);
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener("abort", onAbort, { once: true });
        body.once("close", () => signal.removeEventListener("abort", onAbort));
      }
    }
    return body;
  }

  /** Deletes an object (missing objects are fine). */
  async delete(key: string, signal?: AbortSignal): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: key }), { abortSignal: signal });
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
