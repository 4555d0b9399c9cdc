// Compaction at the size the issue names: a room that received 1,000,000 updates of 1,000
// entities, compacted; how many log rows it holds before and after, and what it cost.
import { performance } from "node:perf_hooks";
import { decideChange, type IncomingChange } from "../../src/server/conflict.js";
import type { SyncStorage } from "../../src/server/index.js";

/** The figures of one compaction run. */
export interface CompactionFigures {
  updates: number;
  entities: number;
  writeSeconds: number;
  rowsBefore: number;
  rowsAfter: number;
  compactSeconds: number;
}

async function countRows(storage: SyncStorage, room: string): Promise<number> {
  let rows = 0;
  let after = 0;
  for (;;) {
    const page = await storage.entriesAfter(room, after, 50_000);
    if (page.length === 0) return rows;
    rows += page.length;
    after = page.at(-1)?.seq ?? after;
  }
}

/**
 * Writes `updates` changes round-robin over `entities` entities (each on the version before it,
 * in commits of 5,000), then compacts everything but the last `keepEntries`.
 *
 * @example const figures = await compactionRun(storage, 1_000_000, 1_000);
 */
export async function compactionRun(
  storage: SyncStorage,
  updates: number,
  entities: number,
  keepEntries = 0,
): Promise<CompactionFigures> {
  const room = `compaction-${Date.now()}`;
  const vectors = new Map<string, Record<string, number>>();
  const started = performance.now();
  for (let start = 0; start < updates; start += 5_000) {
    const batch: IncomingChange[] = [];
    for (let i = start; i < Math.min(updates, start + 5_000); i++) {
      const id = `c${i % entities}`;
      const vector = vectors.get(id) ?? {};
      batch.push({
        messageId: `m${i}`,
        userId: "ann",
        timestamp: Date.now(),
        operation: "upsert",
        entityType: "comment",
        entityId: id,
        entity: {
          id,
          type: "comment",
          updatedAt: Date.now(),
          data: { body: `edit ${i}`, lineNumber: i % 500, status: "open" },
        } as IncomingChange["entity"] & object,
        vector,
        strategy: "last-write-wins",
      });
      vectors.set(id, { ann: (vector.ann ?? 0) + 1 });
    }
    await storage.commit(room, batch, (change, current) => decideChange(current, change, (e) => e));
  }
  const writeSeconds = (performance.now() - started) / 1000;
  const rowsBefore = await countRows(storage, room);
  const head = await storage.head(room);
  const compactStarted = performance.now();
  await storage.compact(room, { horizon: head - keepEntries, tombstonesBefore: 0 });
  const compactSeconds = (performance.now() - compactStarted) / 1000;
  const rowsAfter = await countRows(storage, room);
  return { updates, entities, writeSeconds, rowsBefore, rowsAfter, compactSeconds };
}
