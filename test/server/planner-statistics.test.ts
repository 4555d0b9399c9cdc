// The embedded server keeps PGlite's planner statistics (PGlite runs no autovacuum): without
// them, each page of a join and each catch-up page of a reader far behind scanned every later
// row and sorted it, so a join of a big room cost O(room²).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterEach, describe, expect, it } from "vitest";
import { decideChange } from "../../src/server/conflict.js";
import { pgliteStorage } from "../../src/server/index.js";
import type { SyncStorage } from "../../src/server/storage/storage.js";
import { comment } from "../fixtures/schema.js";

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function tempDir(): string {
  const root = mkdtempSync(join(tmpdir(), "kalphite-stats-"));
  roots.push(root);
  return join(root, "server");
}

async function write(storage: SyncStorage, room: string, from: number, count: number) {
  for (let start = from; start < from + count; start += 2_500) {
    const changes = [];
    for (let i = start; i < Math.min(from + count, start + 2_500); i++)
      changes.push({
        messageId: `m-${room}-${i}`,
        userId: "writer",
        timestamp: i,
        operation: "upsert" as const,
        entityType: "comment",
        entityId: `c${i}`,
        entity: comment(`c${i}`, { body: `comment ${i}` }, i),
        vector: {},
        strategy: "last-write-wins" as const,
      });
    await storage.commit(room, changes, (change, current) =>
      decideChange(current, change, (e: unknown) => e as never),
    );
  }
}

/** The plans of the queries a join and a catch-up page run, on the closed data directory. */
async function plans(dataDir: string) {
  const pg = await PGlite.create(dataDir);
  try {
    const explain = async (sql: string, params: unknown[]) =>
      (await pg.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, params)).rows
        .map((row) => row["QUERY PLAN"])
        .join("\n");
    const rows = async (table: string) =>
      (
        await pg.query<{ reltuples: number }>(
          "SELECT reltuples::float8 AS reltuples FROM pg_class WHERE relname = $1",
          [table],
        )
      ).rows[0]!.reltuples;
    return {
      snapshotPage: await explain(
        `SELECT * FROM kalphite_entities WHERE room_id = $1 AND (entity_type, entity_id) > ($2, $3)
         ORDER BY entity_type, entity_id LIMIT $4`,
        ["big", "comment", "c100", 500],
      ),
      entriesAfter: await explain(
        "SELECT * FROM kalphite_log WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        ["big", 100, 500],
      ),
      entityRows: await rows("kalphite_entities"),
      logRows: await rows("kalphite_log"),
    };
  } finally {
    await pg.close();
  }
}

describe("pgliteStorage's planner statistics", () => {
  it("pages a grown room along its primary key, without scanning and sorting the rest", async () => {
    const dataDir = tempDir();
    const storage = await pgliteStorage({ dataDir });
    await write(storage, "small", 0, 10);
    await write(storage, "big", 0, 12_000);
    await storage.close();

    const found = await plans(dataDir);
    expect(found.entityRows).toBeGreaterThan(10_000);
    expect(found.logRows).toBeGreaterThan(10_000);
    for (const plan of [found.snapshotPage, found.entriesAfter]) {
      expect(plan).toMatch(/Index Scan using kalphite_(entities|log)_pkey/);
      expect(plan).not.toMatch(/Sort|Bitmap/);
    }
  }, 60_000);

  it("analyzes at open a directory that grew since its last ANALYZE (or never had one)", async () => {
    const dataDir = tempDir();
    const storage = await pgliteStorage({ dataDir });
    await write(storage, "big", 0, 40);
    await storage.close();
    // Rows another process wrote without analyzing (as every release before this one did).
    const pg = await PGlite.create(dataDir);
    await pg.exec(`INSERT INTO kalphite_entities
      SELECT (jsonb_populate_record(null::kalphite_entities,
        to_jsonb(e) || jsonb_build_object('entity_id', e.entity_id || '-' || g))).*
      FROM kalphite_entities e, generate_series(1, 200) g`);
    await pg.close();
    expect((await plans(dataDir)).entityRows).toBeLessThan(1_000);

    await (await pgliteStorage({ dataDir })).close();
    const found = await plans(dataDir);
    expect(found.entityRows).toBeGreaterThan(7_000);
    expect(found.snapshotPage).not.toMatch(/Sort|Bitmap/);
  }, 60_000);
});
