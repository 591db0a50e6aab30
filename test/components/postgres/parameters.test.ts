import { pgMemory, quantityToMiB, renderParameters } from "../../../components/postgres";
import type { Resources } from "../../../stacks/environments";

const mem = (memory: string): Resources => ({ requests: { cpu: "1", memory }, limits: { cpu: "1", memory } });

describe("renderParameters", () => {
  it("derives memory settings from the limit and WAL sizes from the WAL volume", () => {
    expect(renderParameters(mem("512Mi"), "2Gi")).toEqual({
      max_connections: "100",
      shared_buffers: "128MB",
      effective_cache_size: "384MB",
      work_mem: "4MB",
      maintenance_work_mem: "32MB",
      max_wal_size: "512MB",
      min_wal_size: "128MB",
      checkpoint_completion_target: "0.9",
      random_page_cost: "1.1",
      effective_io_concurrency: "200",
      log_min_duration_statement: "1s",
      idle_in_transaction_session_timeout: "10min",
      statement_timeout: "0",
      wal_compression: "lz4",
    });
  });

  it("takes typed overrides and passes other settings through", () => {
    const p = renderParameters(mem("4Gi"), "10Gi", { maxConnections: 300, workMemMb: 16, statementTimeoutSec: 30, logMinDurationStatementMs: 250, extra: { "pg_stat_statements.max": "5000" } });
    expect(p).toMatchObject({ max_connections: "300", work_mem: "16MB", statement_timeout: "30s", log_min_duration_statement: "250ms", "pg_stat_statements.max": "5000" });
  });

  it("refuses settings that do not fit the pod or belong to the operator, all at once", () => {
    expect(() => renderParameters(mem("512Mi"), "2Gi", { sharedBuffersMb: 600, maxWalSizeMb: 4096, extra: { port: "6543", "Bad Name": "x" } })).toThrow(
      "postgresql parameters: sharedBuffersMb must be an integer in 16..512 (got 600); maxWalSizeMb must be an integer in 64..2048 (got 4096); " +
        "sharedBuffersMb + maintenanceWorkMemMb (632) must fit the memory limit 512Mi (512 MiB); extra.port is managed by the operator or typed by Stratum; use the typed field or leave it to the operator; extra.Bad Name is not a PostgreSQL setting name",
    );
  });
});

describe("memory quantities", () => {
  it("reads Kubernetes quantities in MiB", () => {
    expect([quantityToMiB("512Mi"), quantityToMiB("8Gi"), quantityToMiB("1Ti"), quantityToMiB("2G"), quantityToMiB("1048576")]).toEqual([512, 8192, 1048576, 1907, 1]);
    expect(() => quantityToMiB("lots")).toThrow("'lots' is not a memory quantity such as 512Mi or 8Gi");
  });

  it("writes sizes the way PostgreSQL prints them", () => {
    expect([pgMemory(1024), pgMemory(1536), pgMemory(6144)]).toEqual(["1GB", "1536MB", "6GB"]);
  });
});
