// Faults found under load: an upstream that answers before it has read the whole upload, and SIGTERM while a
// WebSocket handshake is still waiting for its upstream.
import * as http from "node:http";
import * as net from "node:net";
import { cleanTmp, listen, metricValue, raw, request, sleep, startGateway } from "./support";

afterAll(cleanTmp);

describe("gateway under upstream faults", () => {
  it("closes the client's connection when the upstream answered before the whole upload, instead of wedging it", async () => {
    // answers as soon as the head is in and closes without reading the body, as an upstream refusing an upload may
    const server = net.createServer((s) => {
      s.on("error", () => undefined);
      s.once("data", () => s.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope", () => s.destroy()));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const up = { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, close: () => new Promise((r) => server.close(r)) };
    const gw = await startGateway({ gateway: { max_body_bytes: 32_000_000 }, routes: [{ path_prefix: "/", service: "up", upstream: up.url, auth: { required: false } }] });
    try {
      const size = 16_000_000;
      const started = Date.now();
      const r = await raw(gw.port, (s) => {
        s.on("error", () => undefined);
        s.write(`POST /upload HTTP/1.1\r\nHost: gw\r\nContent-Length: ${size}\r\n\r\n`);
        s.write(Buffer.alloc(size, "y"));
        // the next request on the same connection: it must be answered or the connection closed, not left hanging
        s.write("GET /next HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n");
      }, 5000);
      // its answer, or 502 when the upload hits the closed connection first; then the close, not a wedged connection
      expect(r.text).toMatch(/^HTTP\/1\.1 (200|502) /);
      expect(r.closedByPeer).toBe(true);
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      await gw.stop();
      await up.close();
    }
  });

  it("exits within shutdown_timeout on SIGTERM while a WebSocket handshake waits for its upstream", async () => {
    const sockets: net.Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    const server = http.createServer();
    // the upstream takes 600 ms to accept the upgrade, and then keeps the connection open
    server.on("upgrade", (_req, socket: net.Socket) => {
      sockets.push(socket);
      timers.push(setTimeout(() => socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"), 600));
    });
    const up = await listen(server);
    const gw = await startGateway({ gateway: { shutdown_timeout: "1s" }, routes: [{ path_prefix: "/", service: "up", upstream: up.url, auth: { required: false }, websocket: true, timeout: "3s" }] });
    const client = net.connect(gw.port, "127.0.0.1", () =>
      client.write("GET /ws HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
    );
    client.on("error", () => undefined);
    try {
      await sleep(200);
      gw.child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve("still running"), 3000)));
      expect(await Promise.race([gw.stop(), late])).toBe(0);
      clearTimeout(timer);
    } finally {
      client.destroy();
      gw.child.kill("SIGKILL");
      timers.forEach(clearTimeout);
      for (const s of sockets) s.destroy();
      await up.close();
    }
  });

  it("answers 504 and charges the breaker when a hung upstream stops taking a large upload, instead of blaming the client", async () => {
    // accepts the connection, never reads the body, never answers
    const up = await listen(http.createServer((req) => req.pause()));
    const gw = await startGateway({
      gateway: { max_body_bytes: 32_000_000 },
      circuit_breaker: { failure_threshold: 1, recovery_timeout: "30s", success_threshold: 1 },
      routes: [{ path_prefix: "/", service: "up", upstream: up.url, auth: { required: false }, timeout: "500ms" }],
    });
    try {
      const size = 16_000_000; // far more than the socket buffers between the gateway and the upstream hold
      const r = await raw(gw.port, (s) => {
        s.on("error", () => undefined);
        s.write(`POST /upload HTTP/1.1\r\nHost: gw\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`);
        s.write(Buffer.alloc(size, "y"));
      }, 4000);
      expect(r.text).toMatch(/^HTTP\/1\.1 504/);
      const m = (await request(`http://127.0.0.1:${gw.metricsPort}/metrics`)).body;
      expect(metricValue(m, "gateway_circuit_breaker_state", { upstream: "up" })).toBe(2);
    } finally {
      await gw.stop();
      await up.close();
    }
  });
});
