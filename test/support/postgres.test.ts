import * as fs from "node:fs";
import { Client } from "pg";
import { startPostgres } from "./postgres";

describe("test postgres helper", () => {
  it("starts a throwaway cluster, creates databases, and removes everything on stop", async () => {
    const pg = await startPostgres();
    try {
      const url = await pg.createDatabase();
      const client = new Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query("SELECT current_database() AS db, 1 + 1 AS two");
      await client.end();
      expect(rows[0].two).toBe(2);
      expect(url.endsWith(`/${rows[0].db}`)).toBe(true);
      expect(fs.existsSync(pg.dataDir)).toBe(true);
    } finally {
      await pg.stop();
    }
    expect(fs.existsSync(pg.dataDir)).toBe(false);
    await pg.stop();
  });

  it("refuses a database name that is not a plain identifier", async () => {
    const pg = await startPostgres();
    try {
      await expect(pg.createDatabase("x; DROP")).rejects.toThrow("database name 'x; DROP' must match");
    } finally {
      await pg.stop();
    }
  });
});
