import { databaseUrlFromEnv, parseConfig } from "../src/config";

describe("task orchestrator config", () => {
  it("applies defaults and takes connection details from the platform's environment variables", () => {
    const c = parseConfig({}, {
      POSTGRES_HOST: "postgres-rw.postgres.svc", POSTGRES_PORT: "5432", POSTGRES_DATABASE: "task_orchestrator",
      POSTGRES_USER: "task_orchestrator", POSTGRES_PASSWORD: "p@ss/word", POSTGRES_SSLMODE: "require",
      S3_BUCKET: "stratum-dev-uploads", S3_REGION: "eu-west-1", S3_ENDPOINT: "https://s3.eu-west-1.amazonaws.com", DAPR_HTTP_PORT: "3501",
    });
    expect(c.database.url).toBe("postgres://task_orchestrator:p%40ss%2Fword@postgres-rw.postgres.svc:5432/task_orchestrator?uselibpqcompat=true&sslmode=require");
    expect(c.storage).toMatchObject({ bucket: "stratum-dev-uploads", region: "eu-west-1", endpoint: "https://s3.eu-west-1.amazonaws.com", maxUploadBytes: 100 * 1024 * 1024 });
    expect(c.events).toMatchObject({ enabled: true, daprUrl: "http://127.0.0.1:3501" });
    expect(c.worker).toMatchObject({ concurrency: 4, leaseSeconds: 30, heartbeatSeconds: 10 });
  });

  it("publishes events only where a Dapr sidecar was injected, unless told otherwise", () => {
    expect(parseConfig({}, { DATABASE_URL: "postgres://x@h/db" }).events.enabled).toBe(false);
    expect(parseConfig({ events: { enabled: true } }, { DATABASE_URL: "postgres://x@h/db" }).events.enabled).toBe(true);
  });

  it("prefers DATABASE_URL, and the config file over both", () => {
    expect(databaseUrlFromEnv({ DATABASE_URL: "postgres://a@b/c", POSTGRES_HOST: "x" })).toBe("postgres://a@b/c");
    expect(parseConfig({ database: { url: "postgres://file@h/db" } }, { DATABASE_URL: "postgres://env@h/db" }).database.url).toBe("postgres://file@h/db");
  });

  it("accepts the example config shipped next to the service", () => {
    const example = JSON.parse(require("node:fs").readFileSync(require("node:path").join(__dirname, "..", "config.example.json"), "utf8"));
    expect(parseConfig(example, { DATABASE_URL: "postgres://me@127.0.0.1/tasks" }).storage.bucket).toBe("tasks-local");
  });

  it("names every bad field at once", () => {
    expect(() => parseConfig({ worker: { concurrency: 0, heartbeatSeconds: 40 }, http: { port: "x" }, extra: 1 }, { DATABASE_URL: "postgres://a@b/c" })).toThrow(
      /extra: is not allowed\n  - http\.port: must be integer\n  - worker\.concurrency: must be >= 1/,
    );
    expect(() => parseConfig({ worker: { heartbeatSeconds: 40, leaseSeconds: 30 } }, {})).toThrow(
      /database\.url: is required[\s\S]*worker\.heartbeatSeconds: must be less than worker\.leaseSeconds \(40 >= 30\)/,
    );
  });
});
