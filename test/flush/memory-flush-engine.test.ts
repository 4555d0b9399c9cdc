import { type } from "arktype";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MemoryFlushEngine } from "../../src/flush/index.js";
import { KalphitePersistenceError, KalphiteStore, KalphiteUsageError } from "../../src/index.js";
import { backoffDelay } from "../../src/internal/backoff.js";
import { comment, Entity, review } from "../fixtures/schema.js";
import { deferred, memoryTarget } from "./helpers.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(options: Partial<ConstructorParameters<typeof MemoryFlushEngine>[0]> = {}) {
  const store = KalphiteStore(Entity);
  const target = memoryTarget();
  const errors: unknown[] = [];
  const engine = new MemoryFlushEngine({
    flushTarget: target.target,
    retryJitter: 0,
    onError: (error) => errors.push(error),
    ...options,
  });
  engine.attach(store);
  return { store, engine, errors, ...target };
}

describe("defaults", () => {
  it("uses the seed's defaults: 100 ms debounce, 3 retries, 100 ms base delay, batches of 100", async () => {
    const store = KalphiteStore(Entity);
    const target = memoryTarget();
    const engine = new MemoryFlushEngine({ flushTarget: target.target, retryJitter: 0 });
    engine.attach(store);
    store.comment.upsertMany(Array.from({ length: 250 }, (_, i) => comment(`c${i}`)));
    await vi.advanceTimersByTimeAsync(99);
    expect(target.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(target.calls.map((batch) => batch.length)).toEqual([100, 100, 50]);

    target.state.failing = true;
    const errors: unknown[] = [];
    engine.on("error", (error) => errors.push(error));
    store.comment.delete("c1");
    await vi.advanceTimersByTimeAsync(100); // first try
    const before = target.calls.length;
    await vi.advanceTimersByTimeAsync(100 + 200 + 400); // three retries
    expect(target.calls.length - before).toBe(3);
    expect(errors).toHaveLength(1);
    target.state.failing = false;
    await engine.destroy();
    expect(target.rows.has("comment/c1")).toBe(false);
  });
});

describe("debounce and coalescing", () => {
  it("restarts the debounce on each write and flushes once", async () => {
    const { store, calls } = setup();
    store.comment.upsert("c1", comment("c1"));
    await vi.advanceTimersByTimeAsync(60);
    store.comment.upsert("c2", comment("c2"));
    await vi.advanceTimersByTimeAsync(60);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(40);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.map((change) => change.entityId)).toEqual(["c1", "c2"]);
  });

  it("coalesces per (type, id) only: a type and an id that share a separator stay apart", async () => {
    // A schema may allow any string as a type, so "a:b"/"c" and "a"/"b:c" are two entities; a
    // key of `type + ":" + id` would have kept only the second.
    const Loose = type({ id: "string", type: "string", updatedAt: "number" });
    const store = KalphiteStore(Loose);
    const target = memoryTarget();
    const engine = new MemoryFlushEngine({ flushTarget: target.target });
    engine.attach(store);
    store.collection("a:b").upsert("c", { id: "c", type: "a:b", updatedAt: 1 });
    store.collection("a").upsert("b:c", { id: "b:c", type: "a", updatedAt: 2 });
    expect(engine.getState().pending.size).toBe(2);
    await engine.flush();
    expect(target.calls[0]!.map((change) => [change.entityType, change.entityId])).toEqual([
      ["a:b", "c"],
      ["a", "b:c"],
    ]);
  });

  it("flushes at most maxWaitMs after the first write under a steady stream", async () => {
    const { store, calls } = setup({ debounceMs: 100, maxWaitMs: 250 });
    for (let t = 0; t < 240; t += 20) {
      store.comment.upsert(`c${t}`, comment(`c${t}`));
      await vi.advanceTimersByTimeAsync(20);
    }
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toHaveLength(1);
  });

  it("starts the next cycle as soon as a slow one ends when writes fell due meanwhile", async () => {
    const starts: number[] = [];
    const store = KalphiteStore(Entity);
    const engine = new MemoryFlushEngine({
      flushTarget: async () => {
        starts.push(Date.now());
        await new Promise((resolve) => globalThis.setTimeout(resolve, 300));
      },
    });
    engine.attach(store);
    const t0 = Date.now();
    for (let i = 0; i < 60; i++) {
      store.comment.upsert(`c${i}`, comment(`c${i}`));
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(1000);
    // First cycle at 200 ms (maxWaitMs: the debounce keeps being pushed back); each lasts
    // 300 ms while writes keep coming, so the next starts as it ends, not a debounce later.
    const offsets = starts.map((t) => t - t0);
    expect(offsets).toHaveLength(3);
    expect(offsets[0]).toBe(200);
    expect(offsets[1]).toBeGreaterThanOrEqual(500);
    expect(offsets[1]).toBeLessThanOrEqual(502);
    expect(offsets[2]).toBeGreaterThanOrEqual(800);
    expect(offsets[2]).toBeLessThanOrEqual(804);
    await engine.destroy();
  });

  it("coalesces many writes to one entity into the last one", async () => {
    const { store, calls, rows } = setup();
    for (let i = 1; i <= 5; i++) store.comment.upsert("c1", comment("c1", { body: `v${i}` }, i));
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toEqual([[expect.objectContaining({ operation: "upsert", entityId: "c1" })]]);
    expect((rows.get("comment/c1") as any).data.body).toBe("v5");
  });

  it("turns an upsert followed by a delete into one delete", async () => {
    const { store, engine, calls } = setup();
    store.comment.upsert("c1", comment("c1"));
    store.comment.delete("c1");
    expect(engine.getQueuedChanges()).toEqual([
      expect.objectContaining({ operation: "delete", entityId: "c1", entityType: "comment" }),
    ]);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(1);
    expect(calls[0]![0]!.operation).toBe("delete");
    expect(calls[0]![0]!.entity).toBeUndefined();
  });

  it("keys entities by type and id: the same id in two types is two changes", async () => {
    const { store, engine } = setup();
    store.comment.upsert("x", comment("x"));
    store.review.upsert("x", review("x"));
    expect(engine.getQueuedChanges().map((c) => c.entityType)).toEqual(["comment", "review"]);
  });

  it("never flushes changes with origin hydrate, and flushes remote ones", async () => {
    const { store, engine, calls } = setup();
    store.apply(
      [{ operation: "upsert", entityType: "comment", entityId: "h", entity: comment("h") }],
      "hydrate",
    );
    store.apply(
      [{ operation: "upsert", entityType: "comment", entityId: "r", entity: comment("r") }],
      "remote",
    );
    expect(engine.getQueuedChanges().map((c) => c.entityId)).toEqual(["r"]);
    await engine.flush();
    expect(calls.flat().map((c) => c.entityId)).toEqual(["r"]);
  });

  it("records a timestamp on each change", () => {
    vi.setSystemTime(1_000_000);
    const { store, engine } = setup();
    store.comment.upsert("c1", comment("c1"));
    expect(engine.getQueuedChanges()[0]!.timestamp).toBe(1_000_000);
  });
});

describe("batching", () => {
  it("splits a large flush into ordered batches of maxBatchSize, one call at a time", async () => {
    const gates: ReturnType<typeof deferred<void>>[] = [];
    const calls: string[][] = [];
    const engine = new MemoryFlushEngine({
      maxBatchSize: 3,
      flushTarget: (changes) => {
        calls.push(changes.map((c) => c.entityId));
        const gate = deferred();
        gates.push(gate);
        return gate.promise;
      },
    });
    for (let i = 0; i < 7; i++) engine.scheduleFlush(`c${i}`, comment(`c${i}`));
    const flushed = engine.flush();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([["c0", "c1", "c2"]]);
    gates[0]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(2);
    gates[1]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    gates[2]!.resolve();
    await flushed;
    expect(calls).toEqual([["c0", "c1", "c2"], ["c3", "c4", "c5"], ["c6"]]);
  });

  it("reports each batch written through onFlush and on('flush')", async () => {
    const events: number[] = [];
    const { store, engine } = setup({
      maxBatchSize: 2,
      onFlush: (e) => events.push(e.changes.length),
    });
    const seen: boolean[] = [];
    engine.on("flush", (e) => seen.push(e.persisted));
    store.comment.upsertMany([comment("a"), comment("b"), comment("c")]);
    await engine.flush();
    expect(events).toEqual([2, 1]);
    expect(seen).toEqual([true, true]);
    expect(engine.getState().lastFlushTime).toBeGreaterThan(0);
  });
});

describe("retries", () => {
  it("follows baseRetryDelay * 2^attempt, then reports and keeps the changes", async () => {
    const { store, engine, calls, state, errors } = setup({ baseRetryDelay: 50, maxRetries: 3 });
    state.failing = true;
    store.comment.upsert("c1", comment("c1"));
    const times: number[] = [];
    const start = Date.now();
    const sizeAt = () => calls.length;
    let last = 0;
    for (let t = 0; t <= 1000; t += 10) {
      await vi.advanceTimersByTimeAsync(10);
      if (sizeAt() !== last) {
        last = sizeAt();
        times.push(Date.now() - start);
      }
    }
    // First try at 100 (debounce), then +50, +100, +200.
    expect(times).toEqual([100, 150, 250, 450]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(KalphitePersistenceError);
    expect((errors[0] as Error).message).toMatch(/disk unplugged/);
    expect(engine.getQueuedChanges().map((c) => c.entityId)).toEqual(["c1"]);
    expect(engine.getState().retryQueue).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("adds jitter within [(1 - jitter) * delay, delay]", () => {
    expect(backoffDelay(3, { base: 100, jitter: 0.5 }, () => 0)).toBe(800);
    expect(backoffDelay(3, { base: 100, jitter: 0.5 }, () => 1)).toBe(400);
    expect(backoffDelay(40, { base: 100, max: 5_000, jitter: 0 })).toBe(5_000);
    expect(backoffDelay(5_000, { base: 0, jitter: 0.5 })).toBe(0);
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(2, { base: 100, jitter: 0.5 });
      expect(delay).toBeGreaterThanOrEqual(200);
      expect(delay).toBeLessThanOrEqual(400);
    }
  });

  it("writes the queued changes once the target recovers, on the next write", async () => {
    const { store, rows, state } = setup({ maxRetries: 1 });
    state.failing = true;
    store.comment.upsert("c1", comment("c1"));
    await vi.advanceTimersByTimeAsync(1000);
    expect(rows.size).toBe(0);
    state.failing = false;
    store.comment.upsert("c2", comment("c2"));
    await vi.advanceTimersByTimeAsync(100);
    expect([...rows.keys()].sort()).toEqual(["comment/c1", "comment/c2"]);
  });

  it("flush() retries with backoff, rejects after maxRetries, and keeps the changes", async () => {
    const { store, engine, calls, state } = setup({ maxRetries: 2 });
    state.failing = true;
    store.comment.upsert("c1", comment("c1"));
    const result = engine.flush().catch((error) => error);
    await vi.runAllTimersAsync();
    const error = await result;
    expect(error).toBeInstanceOf(KalphitePersistenceError);
    expect(calls).toHaveLength(3);
    expect(engine.getQueuedChanges()).toHaveLength(1);
    state.failing = false;
    await engine.flush();
    expect(engine.getQueuedChanges()).toHaveLength(0);
  });

  it("a retry never overwrites a newer change made while the old one was in flight", async () => {
    const first = deferred();
    const written = new Map<string, string>();
    let call = 0;
    const engine = new MemoryFlushEngine({
      retryJitter: 0,
      flushTarget: async (changes) => {
        call++;
        if (call === 1) await first.promise; // fails later
        for (const change of changes)
          written.set(change.entityId, (change.entity as any).data.body);
      },
      onError: () => {},
    });
    engine.scheduleFlush("c1", comment("c1", { body: "old" }));
    const flushing = engine.flush();
    await vi.advanceTimersByTimeAsync(0);
    engine.scheduleFlush("c1", comment("c1", { body: "new" }));
    first.reject(new Error("timeout"));
    await vi.runAllTimersAsync();
    await flushing;
    await engine.flush();
    expect(written.get("c1")).toBe("new");
    expect(engine.getQueuedChanges()).toEqual([]);
  });

  it("a newer change replaces an entry waiting in the retry queue", async () => {
    const { store, engine, state, rows } = setup({ maxRetries: 0 });
    state.failing = true;
    store.comment.upsert("c1", comment("c1", { body: "old" }));
    await vi.advanceTimersByTimeAsync(100);
    expect(engine.getState().retryQueue).toHaveLength(1);
    store.comment.upsert("c1", comment("c1", { body: "new" }));
    expect(engine.getState().retryQueue).toHaveLength(0);
    state.failing = false;
    await engine.flush();
    expect((rows.get("comment/c1") as any).data.body).toBe("new");
  });

  it("a target that never resolves times out with a clear error and blocks later writes until it settles", async () => {
    const stuck = deferred();
    let calls = 0;
    const written: string[] = [];
    const engine = new MemoryFlushEngine({
      targetTimeoutMs: 1000,
      maxRetries: 1,
      retryJitter: 0,
      onError: () => {},
      flushTarget: async (changes) => {
        calls++;
        if (calls === 1) await stuck.promise;
        written.push(...changes.map((c) => c.entityId));
      },
    });
    engine.scheduleFlush("c1", comment("c1"));
    const result = engine.flush().catch((error) => error);
    await vi.runAllTimersAsync();
    const error = await result;
    expect(error).toBeInstanceOf(KalphitePersistenceError);
    expect(error.message).toMatch(/did not settle within 1000 ms|has not settled/);
    expect(calls).toBe(1); // no second call while the first is stuck
    expect(engine.getQueuedChanges()).toHaveLength(1);
    stuck.resolve();
    await vi.advanceTimersByTimeAsync(0);
    await engine.flush();
    expect(engine.getQueuedChanges()).toHaveLength(0);
  });

  it("reports a target that throws synchronously like a rejection", async () => {
    const engine = new MemoryFlushEngine({
      maxRetries: 0,
      flushTarget: () => {
        throw new Error("sync boom");
      },
    });
    engine.scheduleFlush("c1", comment("c1"));
    await expect(engine.flush()).rejects.toThrow(/sync boom/);
    expect(engine.getQueuedChanges()).toHaveLength(1);
  });
});

describe("getState", () => {
  it("shows pending, the retry queue, a flush in progress and the last flush time", async () => {
    vi.setSystemTime(5_000);
    const gate = deferred<void>();
    let fail = true;
    const engine = new MemoryFlushEngine({
      maxRetries: 0,
      onError: () => {},
      flushTarget: async () => {
        await gate.promise;
        if (fail) throw new Error("down");
      },
    });
    engine.scheduleFlush("a", comment("a"));
    engine.scheduleDelete("b", "comment");
    const state = engine.getState();
    expect([...state.pending.values()].map((c) => [c.operation, c.entityId])).toEqual([
      ["upsert", "a"],
      ["delete", "b"],
    ]);
    expect(state.isFlushInProgress).toBe(false);
    expect(state.lastFlushTime).toBe(0);
    const flushing = engine.flush().catch((error) => error);
    await vi.advanceTimersByTimeAsync(0);
    expect(engine.getState().isFlushInProgress).toBe(true);
    expect(engine.getState().pending.size).toBe(0);
    gate.resolve();
    await flushing;
    expect(engine.getState().retryQueue.map((c) => c.entityId)).toEqual(["a", "b"]);
    fail = false;
    await engine.flush();
    expect(engine.getState()).toEqual({
      pending: new Map(),
      retryQueue: [],
      isFlushInProgress: false,
      lastFlushTime: 5_000,
    });
  });
});

describe("pause and resume", () => {
  it("queues while paused, writes nothing, and flushes after resume", async () => {
    const { store, engine, calls } = setup();
    engine.pauseFlush();
    store.comment.upsert("c1", comment("c1"));
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
    let flushed = false;
    const waiting = engine.flush().then(() => (flushed = true));
    await vi.advanceTimersByTimeAsync(1000);
    expect(flushed).toBe(false);
    engine.resumeFlush();
    await waiting;
    expect(calls).toHaveLength(1);
  });
});

describe("flush()", () => {
  it("resolves at once when nothing is queued", async () => {
    const { engine, calls } = setup();
    await engine.flush();
    expect(calls).toHaveLength(0);
  });

  it("waits for an automatic flush in progress and then writes the rest", async () => {
    const gate = deferred();
    const seen: string[][] = [];
    const store = KalphiteStore(Entity);
    const engine = new MemoryFlushEngine({
      flushTarget: async (changes) => {
        seen.push(changes.map((c) => c.entityId));
        if (seen.length === 1) await gate.promise;
      },
    });
    engine.attach(store);
    store.comment.upsert("a", comment("a"));
    await vi.advanceTimersByTimeAsync(100);
    store.comment.upsert("b", comment("b"));
    let done = false;
    const flushing = engine.flush().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(false);
    gate.resolve();
    await flushing;
    expect(seen).toEqual([["a"], ["b"]]);
  });
});

describe("destroy", () => {
  it("writes what is pending, detaches from the store and leaves no timer", async () => {
    const { store, engine, rows } = setup();
    store.comment.upsert("c1", comment("c1"));
    await engine.destroy();
    expect(rows.has("comment/c1")).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    store.comment.upsert("c2", comment("c2"));
    expect(engine.getQueuedChanges()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("flushes even when paused", async () => {
    const { store, engine, rows } = setup();
    engine.pauseFlush();
    store.comment.upsert("c1", comment("c1"));
    await engine.destroy();
    expect(rows.has("comment/c1")).toBe(true);
  });

  it("rejects writes after destroy with a usage error", async () => {
    const { engine } = setup();
    await engine.destroy();
    expect(() => engine.scheduleFlush("c1", comment("c1"))).toThrow(KalphiteUsageError);
    expect(() => engine.scheduleDelete("c1", "comment")).toThrow(/after destroy/);
    await expect(engine.flush()).rejects.toThrow(KalphiteUsageError);
    expect(() => engine.attach(KalphiteStore(Entity))).toThrow(KalphiteUsageError);
  });

  it("rejects when the final flush fails, keeps the changes and leaves no timer", async () => {
    const { store, engine, state } = setup({ maxRetries: 1 });
    state.failing = true;
    store.comment.upsert("c1", comment("c1"));
    const result = engine.destroy().catch((error) => error);
    await vi.runAllTimersAsync();
    expect(await result).toBeInstanceOf(KalphitePersistenceError);
    expect(engine.getQueuedChanges()).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("enablePersistence: false", () => {
  it("never calls the target but reports what it would write", async () => {
    const target = vi.fn(async () => {});
    const events: { ids: string[]; persisted: boolean }[] = [];
    const store = KalphiteStore(Entity);
    const engine = new MemoryFlushEngine({
      flushTarget: target,
      enablePersistence: false,
      onFlush: (e) =>
        events.push({ ids: e.changes.map((c) => c.entityId), persisted: e.persisted }),
    });
    engine.attach(store);
    store.comment.upsert("c1", comment("c1"));
    expect(engine.getQueuedChanges()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(target).not.toHaveBeenCalled();
    expect(events).toEqual([{ ids: ["c1"], persisted: false }]);
    expect(engine.getQueuedChanges()).toHaveLength(0);
  });
});

describe("bad options", () => {
  it("needs a flushTarget and non-negative numbers", () => {
    expect(() => new MemoryFlushEngine({} as any)).toThrow(/flushTarget/);
    expect(() => new MemoryFlushEngine({ flushTarget: async () => {}, debounceMs: -1 })).toThrow(
      /debounceMs must be a number/,
    );
  });
});
