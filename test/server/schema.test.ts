// The SQL storages' tables are migrated once per database, by version: a server starting on an
// up-to-date database changes no table, so it never waits behind (or blocks) a running server.
import { afterEach, describe, expect, it } from "vitest";
import { KalphiteUsageError } from "../../src/core/index.js";
import { decideChange, type IncomingChange } from "../../src/server/conflict.js";
import { postgresStorage } from "../../src/server/index.js";
import { POSTGRES_URL, uniqueName, withTimeout } from "./helpers.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("schema migrations", () => {
  it("refuses a table prefix whose names would not fit PostgreSQL's 63 bytes, before touching the database", async () => {
    const long = `${"p".repeat(46)}_`;
    await expect(postgresStorage({ url: POSTGRES_URL, tablePrefix: long })).rejects.toBeInstanceOf(
      KalphiteUsageError,
    );
    const longest = `${uniqueName("m").toLowerCase()}_`.padEnd(45, "x");
    const storage = await postgresStorage({ url: POSTGRES_URL, tablePrefix: longest });
    cleanups.push(() => storage.close());
    // A commit runs every statement and its NOTIFY on channel "<prefix>sync_entries".
    const change: IncomingChange = {
      messageId: "m1",
      userId: "ann",
      timestamp: 1,
      operation: "delete",
      entityType: "comment",
      entityId: "c1",
      vector: {},
      strategy: "last-write-wins",
    };
    await storage.commit("room", [change], (c, current) => decideChange(current, c, (e) => e));
    expect(await storage.head("room")).toBe(1);
  });

  it("a second server starts while the first holds a commit open (no table is altered again)", async () => {
    const { default: pg } = await import("pg");
    const p = `${uniqueName("mig").toLowerCase()}_`;
    const first = await postgresStorage({ url: POSTGRES_URL, tablePrefix: p });
    cleanups.push(() => first.close());
    // What a commit in progress holds on the log: any ALTER TABLE of it would wait for it.
    const running = new pg.Client({ connectionString: POSTGRES_URL });
    await running.connect();
    cleanups.push(() => running.end());
    await running.query(
      `BEGIN; LOCK TABLE ${p}log, ${p}entities, ${p}compacted IN ROW EXCLUSIVE MODE`,
    );
    cleanups.push(() => running.query("ROLLBACK"));
    const second = await withTimeout(
      postgresStorage({ url: POSTGRES_URL, tablePrefix: p }),
      20_000,
      "the second server to open its storage while a commit is open",
    );
    cleanups.push(() => second.close());
    const version = await running.query(`SELECT version FROM ${p}schema`);
    expect(version.rows).toEqual([{ version: 3 }]);
  }, 60_000);
});
