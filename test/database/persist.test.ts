import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { FrontendDatabase, type LoadProgress, persist } from "../../src/database/index.js";
import { KalphiteStore, KalphiteUsageError, KalphiteValidationError } from "../../src/index.js";
import { comment, Entity, review } from "../fixtures/schema.js";
import { step } from "../flush/helpers.js";
import { ManualClock, settleWith, turn } from "../support/manual-clock.js";
import { emptyBackup } from "./helpers.js";

let db: FrontendDatabase<Entity>;
beforeAll(async () => {
  db = new FrontendDatabase<Entity>({ dbName: "memory://", schema: Entity });
  await db.init();
});
afterAll(() => db.close());
beforeEach(() => db.restore(emptyBackup()));

const sorted = (entities: readonly Entity[]) =>
  [...entities].sort((a, b) => `${a.type}/${a.id}`.localeCompare(`${b.type}/${b.id}`));

describe("persist()", () => {
  it("hydrates the store with progress, and never writes hydrated entities back", async () => {
    await db.applyChanges(
      Array.from({ length: 25 }, (_, i) => ({
        operation: "upsert" as const,
        entityType: "comment",
        entityId: `c${i}`,
        entity: comment(`c${i}`),
        timestamp: 0,
      })),
    );
    await db.upsert("review", "r1", review("r1"));
    const store = KalphiteStore(Entity);
    const origins: string[] = [];
    store.onChange((change) => origins.push(change.origin));
    const progress: LoadProgress[] = [];
    const applyChanges = vi.spyOn(db, "applyChanges");
    const persistence = await persist(store, db, {
      pageSize: 10,
      onProgress: (p) => progress.push(p),
    });
    expect(persistence.hydrated).toBe(26);
    expect(store.comment.length).toBe(25);
    expect(store.review.findById("r1")).toEqual(review("r1"));
    expect(new Set(origins)).toEqual(new Set(["hydrate"]));
    expect(progress).toEqual([
      { loaded: 10, total: 26 },
      { loaded: 20, total: 26 },
      { loaded: 26, total: 26 },
    ]);
    expect(persistence.engine.getQueuedChanges()).toEqual([]);
    await persistence.stop();
    expect(applyChanges).not.toHaveBeenCalled();
    applyChanges.mockRestore();
  });

  it("persists local and remote changes; flush() is the point after which they are committed", async () => {
    const store = KalphiteStore(Entity);
    const persistence = await persist(store, db);
    store.comment.upsert("c1", comment("c1"));
    store.review.upsert("r1", review("r1"));
    store.apply(
      [{ operation: "upsert", entityType: "comment", entityId: "c2", entity: comment("c2") }],
      "remote",
    );
    await persistence.flush();
    expect(sorted(await db.entities())).toEqual(sorted(store.entities()));
    store.comment.delete("c1");
    await persistence.stop();
    expect(await db.getById("comment", "c1")).toBeUndefined();
    // After stop(), the store still works in memory but nothing more is written.
    store.comment.upsert("c3", comment("c3"));
    expect(await db.getById("comment", "c3")).toBeUndefined();
    await expect(persistence.flush()).rejects.toThrow(KalphiteUsageError);
  });

  it("keeps entities the store already held (they win) and writes them", async () => {
    await db.upsert("comment", "c1", comment("c1", { body: "stored" }));
    await db.upsert("comment", "c2", comment("c2", { body: "stored" }));
    const store = KalphiteStore(Entity);
    store.comment.upsert("c1", comment("c1", { body: "in memory" }));
    const persistence = await persist(store, db);
    expect(store.comment.findById("c1")!.data.body).toBe("in memory");
    expect(store.comment.findById("c2")!.data.body).toBe("stored");
    await persistence.flush();
    expect((await db.getById("comment", "c1"))!.data).toMatchObject({ body: "in memory" });
    await persistence.stop();
  });

  it("rejects with the validation error when a stored row fails the schema, loading nothing", async () => {
    const strict = KalphiteStore(Entity);
    // A row written by an older, looser app version.
    const loose = new FrontendDatabase({
      dbName: "memory://",
      schema: Entity,
      migrations: [
        {
          version: 1,
          up: (m) =>
            m.put("comment", "bad", { id: "bad", type: "comment", updatedAt: 1, data: {} }),
          down: async () => {},
        },
      ],
    });
    try {
      await loose.upsert("comment", "good", comment("good"));
      await expect(persist(strict, loose)).rejects.toThrow(KalphiteValidationError);
      expect(strict.comment.length).toBe(0);
    } finally {
      await loose.close();
    }
  });

  it("property: for any writes, deletes and database failures, once it recovers and flush() resolves, the database equals the store", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 40 }),
        fc.integer({ min: 1, max: 4 }),
        async (steps, maxBatchSize) => {
          await db.restore(emptyBackup());
          const store = KalphiteStore(Entity);
          let failing = false;
          const applyChanges = db.applyChanges.bind(db);
          const flaky = vi.spyOn(db, "applyChanges").mockImplementation(async (changes) => {
            if (failing) throw new Error("database unavailable");
            return applyChanges(changes);
          });
          const clock = new ManualClock();
          const persistence = await persist(store, db, {
            clock,
            debounceMs: 1,
            baseRetryDelay: 1,
            maxRetries: 1,
            maxBatchSize,
            onError: () => {},
          });
          for (const s of steps) {
            if (s.kind === "upsert")
              store.comment.upsert(`c${s.id}`, comment(`c${s.id}`, { body: s.body }));
            else if (s.kind === "delete") store.comment.delete(`c${s.id}`);
            else if (s.kind === "fail") failing = s.on;
            else {
              // Time passes: due debounces and retries fire, and the database runs meanwhile.
              clock.advance(s.ms % 5);
              await turn();
            }
          }
          failing = false;
          await settleWith(clock, persistence.flush());
          expect(sorted(await db.entities())).toEqual(sorted(store.entities()));
          await persistence.stop();
          flaky.mockRestore();
        },
      ),
      { numRuns: 40 },
    );
  }, 300_000);
});
