import { spawn } from "node:child_process";
import * as path from "node:path";
import { cleanTmp, metricValue, request, sleep, startGateway, startUpstream, writeConfig } from "./support";

afterAll(cleanTmp);

describe("gateway lifecycle", () => {
  it("drains in-flight requests on SIGTERM, reports not ready meanwhile, then exits 0", async () => {
    const upstream = await startUpstream((_req, res) => setTimeout(() => res.end("done"), 600));
    const gw = await startGateway({ gateway: { shutdown_timeout: "5s" }, routes: [{ path_prefix: "/", service: "slow", upstream: upstream.url, auth: { required: false } }] });
    try {
      const inflight = request(`${gw.url}/work`);
      await sleep(150);
      const during = (await request(`http://127.0.0.1:${gw.metricsPort}/metrics`)).body;
      expect(metricValue(during, "gateway_inflight_requests")).toBe(1);
      gw.child.kill("SIGTERM");
      await sleep(100);
      const ready = await request(`http://127.0.0.1:${gw.metricsPort}/readyz`).catch(() => undefined);
      expect(ready?.status).toBe(503);
      await expect(request(`${gw.url}/work`)).rejects.toThrow(/ECONNREFUSED|ECONNRESET/);
      const res = await inflight;
      expect(res.status).toBe(200);
      expect(res.body).toBe("done");
      expect(res.headers.connection).toBe("close");
      expect(await gw.stop()).toBe(0);
      expect(gw.stdout()).toContain('"msg":"stopped"');
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it("keeps serving, while reporting not ready, for shutdown_delay after SIGTERM", async () => {
    const upstream = await startUpstream();
    const gw = await startGateway({ gateway: { shutdown_delay: "700ms" }, routes: [{ path_prefix: "/", service: "up", upstream: upstream.url, auth: { required: false } }] });
    try {
      gw.child.kill("SIGTERM");
      await sleep(200);
      expect((await request(`${gw.url}/readyz`)).status).toBe(503);
      const res = await request(`${gw.url}/still`);
      expect(res.status).toBe(200);
      expect(res.headers.connection).toBe("close");
      expect(await gw.stop()).toBe(0);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it("starts through npm run start:gateway -- --config FILE", async () => {
    const upstream = await startUpstream();
    const file = writeConfig({ gateway: { port: 0, metrics_port: 0, host: "127.0.0.1", timeout: "1s" }, routes: [{ path_prefix: "/", service: "up", upstream: upstream.url, auth: { required: false } }] }, "g.json");
    const root = path.resolve(__dirname, "..", "..", "..");
    const child = spawn("npm", ["run", "--silent", "start:gateway", "--", "--config", file], { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(out)), 20000);
        child.stdout.on("data", (d) => {
          out += d;
          const m = /"msg":"gateway listening","port":(\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
      });
      expect((await request(`http://127.0.0.1:${port}/hello`)).json()).toEqual({ path: "/hello" });
    } finally {
      process.kill(-(child.pid as number), "SIGTERM");
      await new Promise((r) => child.on("exit", r));
      await upstream.close();
    }
  });
});
