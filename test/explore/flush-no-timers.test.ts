import { describe, expect, it } from "vitest";
import { MemoryFlushEngine } from "../../src/flush/index.js";
import { KalphitePersistenceError, KalphiteStore } from "../../src/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { ManualClock, settleWith } from "../support/manual-clock.js";

describe("a flush engine destroyed in an awkward state leaves no timer", () => {
  it("while paused, backing off after a failure, with a debounce armed", async () => {
    const clock = new ManualClock();
    let failing = true;
    const written: string[] = [];
    const errors: unknown[] = [];
    const engine = new MemoryFlushEngine({
      clock,
      maxRetries: 2,
      onError: (e) => errors.push(e),
      flushTarget: async (changes) => {
        if (failing) throw new Error("disk full");
        written.push(...changes.map((c) => `${c.operation}:${c.entityId}`));
      },
    });
    const store = KalphiteStore(Entity);
    engine.attach(store);
    store.comment.upsert("a", comment("a"));
    clock.advance(100); // the debounce fires; the write fails and a retry is scheduled
    await new Promise((r) => setImmediate(r));
    store.comment.delete("a");
    store.comment.upsert("a", comment("a", { body: "re-created" }));
    engine.pauseFlush();
    store.comment.upsert("b", comment("b"));
    const failed = await settleWith(clock, engine.destroy()).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(KalphitePersistenceError);
    expect(clock.pending).toBe(0);
    expect(engine.getQueuedChanges().map((c) => `${c.operation}:${c.entityId}`)).toEqual([
      "upsert:a",
      "upsert:b",
    ]);
    // The same promise again, and the store's later writes are not queued.
    expect(engine.destroy()).toBeInstanceOf(Promise);
    store.comment.upsert("c", comment("c"));
    expect(engine.getQueuedChanges()).toHaveLength(2);
    failing = false;
    expect(written).toEqual([]);
  });
});
