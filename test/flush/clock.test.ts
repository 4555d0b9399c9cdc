// The flush engine schedules only through its `clock`, and none of its public methods leaves an
// unhandled rejection behind: a failure it gives up on is reported, and the promise it returns
// may be left unawaited.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FrontendDatabase, persist } from "../../src/database/index.js";
import { MemoryFlushEngine } from "../../src/flush/index.js";
import { KalphitePersistenceError, KalphiteStore, KalphiteUsageError } from "../../src/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { ManualClock, runUntil, turn } from "../support/manual-clock.js";
import { memoryTarget } from "./helpers.js";

let unhandled: unknown[];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on("unhandledRejection", onUnhandled);
});
afterEach(() => {
  process.off("unhandledRejection", onUnhandled);
});

describe("the clock option", () => {
  it("drives the debounce, maxWaitMs and change timestamps", async () => {
    const clock = new ManualClock(5_000);
    const { target, calls } = memoryTarget();
    const engine = new MemoryFlushEngine({ flushTarget: target, clock, debounceMs: 100 });
    const store = KalphiteStore(Entity);
    engine.attach(store);
    store.comment.upsert("c1", comment("c1"));
    expect(engine.getQueuedChanges()[0]?.timestamp).toBe(5_000);
    clock.advance(99);
    await turn();
    expect(calls).toHaveLength(0);
    // Writes push the debounce back, but never past maxWaitMs (2 × debounce) after the first.
    store.comment.upsert("c2", comment("c2"));
    clock.advance(100);
    await turn();
    expect(calls.map((batch) => batch.map((change) => change.entityId))).toEqual([["c1", "c2"]]);
    expect(engine.getState().lastFlushTime).toBe(5_199);
    await engine.destroy();
    expect(clock.pending).toBe(0);
  });

  it("drives the retry backoff, with the clock's randomness as jitter", async () => {
    const clock = new ManualClock(0);
    clock.randomValue = 0.5;
    const { target, calls, state } = memoryTarget();
    const errors: unknown[] = [];
    const engine = new MemoryFlushEngine({
      flushTarget: async (changes) => {
        starts.push(clock.now());
        return target(changes);
      },
      clock,
      debounceMs: 10,
      baseRetryDelay: 100,
      retryJitter: 0.5,
      maxRetries: 2,
      onError: (error) => errors.push(error),
    });
    const starts: number[] = [];
    state.failing = true;
    engine.scheduleFlush("c1", comment("c1"));
    await runUntil(clock, () => errors.length === 1);
    // 10 (debounce), then 100 × 2^n × (1 - 0.5 × 0.5) after each failure.
    expect(starts).toEqual([10, 10 + 75, 10 + 75 + 150]);
    expect(calls).toHaveLength(3);
    expect(engine.getQueuedChanges()).toHaveLength(1);
    state.failing = false;
    await engine.destroy();
    expect(clock.pending).toBe(0);
  });

  it("refuses a clock without the four functions, naming what is missing", () => {
    expect(
      () =>
        new MemoryFlushEngine({
          flushTarget: async () => {},
          clock: { now: () => 0 } as never,
        }),
    ).toThrow(KalphiteUsageError);
    expect(
      () =>
        new MemoryFlushEngine({
          flushTarget: async () => {},
          clock: { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} } as never,
        }),
    ).toThrow(/clock must be an object with .* missing random/);
  });
});

/** An engine on a manual clock whose target fails (until `state.failing` is unset), with c1 queued. */
function failingEngine(maxRetries: number) {
  const clock = new ManualClock();
  const { target, state } = memoryTarget();
  state.failing = true;
  const errors: unknown[] = [];
  const engine = new MemoryFlushEngine({
    flushTarget: target,
    clock,
    maxRetries,
    onError: (error) => errors.push(error),
  });
  engine.scheduleFlush("c1", comment("c1"));
  return { clock, engine, errors, state };
}

describe("no unhandled rejection from a public method", () => {
  it("destroy() left unawaited while its final flush fails: reported, changes kept, no timer", async () => {
    const { clock, engine, errors } = failingEngine(1);
    void engine.destroy(); // as the seed declares it: destroy(): void
    await runUntil(clock, () => errors.length > 0);
    await turn();
    expect(unhandled).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(KalphitePersistenceError);
    expect((errors[0] as Error).message).toMatch(/disk unplugged/);
    expect(engine.getQueuedChanges().map((change) => change.entityId)).toEqual(["c1"]);
    expect(clock.pending).toBe(0);
  });

  it("destroy() awaited rejects with the same error; a second call returns the same promise", async () => {
    const { clock, engine, errors } = failingEngine(0);
    const first = engine.destroy();
    expect(engine.destroy()).toBe(first);
    const outcome = first.catch((error: unknown) => error);
    await runUntil(clock, () => errors.length > 0);
    expect(await outcome).toBe(errors[0]);
    await turn();
    expect(unhandled).toEqual([]);
  });

  it("flush() left unawaited while writing fails: reported, no unhandled rejection", async () => {
    const { clock, engine, errors, state } = failingEngine(1);
    void engine.flush();
    await runUntil(clock, () => errors.length > 0);
    await turn();
    expect(unhandled).toEqual([]);
    expect(errors[0]).toBeInstanceOf(KalphitePersistenceError);
    state.failing = false;
    await engine.flush();
    expect(engine.getQueuedChanges()).toEqual([]);
    await engine.destroy();
  });

  it("flush() after destroy() rejects for a caller that awaits, and nothing is left unhandled", async () => {
    const engine = new MemoryFlushEngine({ flushTarget: async () => {} });
    await engine.destroy();
    void engine.flush();
    await expect(engine.flush()).rejects.toThrow(KalphiteUsageError);
    await turn();
    expect(unhandled).toEqual([]);
  });

  it("persistence.stop() left unawaited while the database fails: reported, no unhandled rejection", async () => {
    const clock = new ManualClock();
    const db = new FrontendDatabase<Entity>({ dbName: "memory://", schema: Entity });
    const store = KalphiteStore(Entity);
    const errors: unknown[] = [];
    const persistence = await persist(store, db, {
      clock,
      maxRetries: 0,
      onError: (error) => errors.push(error),
    });
    store.comment.upsert("c1", comment("c1"));
    await db.close(); // every later write fails
    void persistence.stop();
    await runUntil(clock, () => errors.length > 0);
    await turn();
    expect(unhandled).toEqual([]);
    expect(errors[0]).toBeInstanceOf(KalphitePersistenceError);
    expect(persistence.engine.getQueuedChanges().map((change) => change.entityId)).toEqual(["c1"]);
  });
});

describe("listeners", () => {
  it("a throwing flush listener is reported on error and stops no other listener", async () => {
    const clock = new ManualClock();
    const errors: unknown[] = [];
    const seen: string[] = [];
    const engine = new MemoryFlushEngine({
      flushTarget: async () => {},
      clock,
      onError: (error) => errors.push(error),
    });
    engine.on("flush", () => {
      throw new Error("listener bug");
    });
    engine.on("flush", (event) => seen.push(...event.changes.map((change) => change.entityId)));
    engine.scheduleFlush("c1", comment("c1"));
    await engine.flush();
    expect(seen).toEqual(["c1"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(KalphitePersistenceError);
    expect((errors[0] as Error).message).toMatch(/A "flush" listener threw: Error: listener bug/);
    await engine.destroy();
  });

  it("a throwing error listener goes to the console, and the other error listeners still run", async () => {
    const { clock, engine, errors } = failingEngine(0);
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      engine.on("error", () => {
        throw new Error("error listener bug");
      });
      const off = engine.on("error", (error) => errors.push(error));
      void engine.flush();
      await runUntil(clock, () => errors.length === 2); // onError and the second listener
      expect(logged).toHaveBeenCalledWith(
        expect.objectContaining({ message: "error listener bug" }),
      );
      off();
    } finally {
      logged.mockRestore();
    }
  });
});
