import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** One message the fake sidecar accepted (bulk publishes are recorded per entry). */
export interface Published {
  readonly topic: string;
  readonly pubsub: string;
  readonly contentType: string;
  readonly body: any;
  readonly bulk: boolean;
  readonly headers: http.IncomingHttpHeaders;
}

/**
 * A stand-in for the Dapr sidecar's HTTP publish API on loopback: records what the app publishes, and can be told to
 * fail (status per topic pattern) to exercise retries.
 */
export class FakeDapr {
  readonly published: Published[] = [];
  /** Requests seen, including failed ones. */
  requests = 0;
  private failure?: { status: number; match: (topic: string) => boolean; remaining: number };
  private server?: http.Server;
  port = 0;
  /** Milliseconds every publish waits before it is answered. */
  delayMs = 0;
  private slow?: { text: string; ms: number };

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const extra = this.slow && Buffer.concat(chunks).includes(this.slow.text) ? this.slow.ms : 0;
        setTimeout(() => this.answer(req, res, chunks), this.delayMs + extra);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse, chunks: Buffer[]): void {
    this.requests++;
    const m = /^\/(v1\.0|v1\.0-alpha1)\/publish\/(bulk\/)?([^/]+)\/([^/?]+)/.exec(req.url ?? "");
    if (!m || req.method !== "POST") { res.writeHead(404).end(); return; }
    const [, , bulk, pubsub, rawTopic] = m;
    const topic = decodeURIComponent(rawTopic);
    const f = this.failure;
    if (f && f.remaining > 0 && f.match(topic)) {
      f.remaining--;
      res.writeHead(f.status, { "content-type": "application/json" }).end(JSON.stringify({ errorCode: "ERR_PUBSUB_PUBLISH_MESSAGE", message: "fake failure" }));
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (bulk) {
      for (const e of body) this.published.push({ topic, pubsub, contentType: e.contentType, body: e.event, bulk: true, headers: req.headers });
    } else {
      this.published.push({ topic, pubsub, contentType: String(req.headers["content-type"]), body, bulk: false, headers: req.headers });
    }
    res.writeHead(bulk ? 200 : 204, bulk ? { "content-type": "application/json" } : {}).end(bulk ? JSON.stringify({ failedEntries: [] }) : undefined);
  }

  /** Fails the next `times` publishes to matching topics with `status`. */
  fail(status: number, match: (topic: string) => boolean = () => true, times = Number.MAX_SAFE_INTEGER): void {
    this.failure = { status, match, remaining: times };
  }

  /** Delays publishes whose body contains `text` by `ms` more (one slow event among fast ones). */
  slowFor(text: string, ms: number): void {
    this.slow = { text, ms };
  }

  /** Stops failing. */
  heal(): void {
    this.failure = undefined;
    this.slow = undefined;
  }

  /** Published messages on one topic. */
  on(topic: string): Published[] {
    return this.published.filter((p) => p.topic === topic);
  }

  clear(): void {
    this.published.length = 0;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}
