import * as http from "node:http";

/** A publish the sidecar refused or could not complete; `retryable` is false for 4xx answers (bad config, scopes). */
export class PublishError extends Error {
  constructor(message: string, readonly status: number | undefined, readonly retryable: boolean) {
    super(message);
  }
}

/** One entry of a bulk publish. */
export interface BulkEntry {
  readonly entryId: string;
  readonly event: unknown;
  readonly contentType: string;
}

/** Publishes through the Dapr sidecar's HTTP API (`/v1.0/publish`, `/v1.0-alpha1/publish/bulk`). */
export class DaprPublisher {
  private readonly agent: http.Agent;

  constructor(private readonly host: string, private readonly port: number, private readonly pubsub: string, private readonly timeoutMs: number) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  }

  /** Publishes one message; `application/cloudevents+json` keeps the event's own envelope. */
  async publish(topic: string, body: unknown, contentType: string, headers: Record<string, string> = {}): Promise<void> {
    await this.post(`/v1.0/publish/${encodeURIComponent(this.pubsub)}/${encodeURIComponent(topic)}`, body, contentType, headers);
  }

  /** Publishes several messages; any failed entry fails the whole call (the caller retries the batch). */
  async publishBulk(topic: string, entries: ReadonlyArray<BulkEntry>, headers: Record<string, string> = {}): Promise<void> {
    if (entries.length === 0) return;
    await this.post(`/v1.0-alpha1/publish/bulk/${encodeURIComponent(this.pubsub)}/${encodeURIComponent(topic)}`, entries, "application/json", headers);
  }

  /** Releases pooled sockets. */
  close(): void {
    this.agent.destroy();
  }

  private post(path: string, body: unknown, contentType: string, headers: Record<string, string>): Promise<void> {
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise<void>((resolve, reject) => {
      const req = http.request(
        { host: this.host, port: this.port, path, method: "POST", agent: this.agent,
          headers: { ...headers, "content-type": contentType, "content-length": payload.length } },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (c: Buffer) => { if (size < 4096) chunks.push(c); size += c.length; });
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve();
            const text = Buffer.concat(chunks).toString("utf8").slice(0, 500);
            reject(new PublishError(`dapr publish ${path}: HTTP ${status}: ${text}`, status, status >= 500 || status === 429));
          });
          res.on("error", (e) => reject(new PublishError(`dapr publish ${path}: ${e.message}`, undefined, true)));
        },
      );
      // a deadline for the whole publish, not the socket's idle timeout: that one starts only once the agent hands
      // out a socket (publishes beyond maxSockets queue first) and never fires while an answer trickles in
      const timer = setTimeout(() => req.destroy(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
      req.on("close", () => clearTimeout(timer));
      req.on("error", (e) => reject(new PublishError(`dapr publish ${path}: ${e.message}`, undefined, true)));
      req.end(payload);
    });
  }
}
