import { renderPgBouncer, serverConnectionsPerPool } from "../../../components/postgres";

const defaults = { defaultPoolSize: 20, maxClientConnections: 500 };

describe("renderPgBouncer", () => {
  it("defaults to transaction pooling with the environment's sizes", () => {
    const r = renderPgBouncer({}, defaults);
    expect(r).toEqual({
      poolMode: "transaction",
      parameters: {
        default_pool_size: "20", min_pool_size: "0", reserve_pool_size: "5", reserve_pool_timeout: "3", max_client_conn: "500",
        max_db_connections: "0", server_idle_timeout: "600", query_wait_timeout: "120",
      },
    });
    expect(serverConnectionsPerPool(r)).toBe(25);
  });

  it("takes typed overrides", () => {
    const r = renderPgBouncer({ poolMode: "session", defaultPoolSize: 5, reservePoolSize: 0, maxDbConnections: 40 }, defaults);
    expect(r.poolMode).toBe("session");
    expect(r.parameters).toMatchObject({ default_pool_size: "5", reserve_pool_size: "0", max_db_connections: "40" });
  });

  it("names every bad field at once", () => {
    expect(() => renderPgBouncer({ defaultPoolSize: 0, minPoolSize: 3, maxClientConnections: -1, poolMode: "statement" as never }, defaults)).toThrow(
      "pgbouncer: maxClientConnections must be an integer >= 0 (got -1); defaultPoolSize must be >= 1 (got 0); minPoolSize (3) must not exceed defaultPoolSize (0); maxClientConnections (-1) must be at least defaultPoolSize (0); poolMode must be session or transaction (got \"statement\")",
    );
  });
});
