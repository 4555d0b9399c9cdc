import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MemoryFlushEngine } from "../../src/flush/index.js";
import { KalphiteStore } from "../../src/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { memoryTarget, step } from "./helpers.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("MemoryFlushEngine property", () => {
  it("once the target recovers and flush() resolves, the target equals the store", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 60 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 150 }),
        async (steps, maxBatchSize, latencyMs) => {
          const store = KalphiteStore(Entity);
          const target = memoryTarget(latencyMs);
          const engine = new MemoryFlushEngine({
            flushTarget: target.target,
            maxBatchSize,
            maxRetries: 2,
            baseRetryDelay: 10,
            onError: () => {},
          });
          engine.attach(store);
          for (const s of steps) {
            if (s.kind === "upsert")
              store.comment.upsert(`c${s.id}`, comment(`c${s.id}`, { body: s.body }));
            else if (s.kind === "delete") store.comment.delete(`c${s.id}`);
            else if (s.kind === "fail") target.state.failing = s.on;
            else await vi.advanceTimersByTimeAsync(s.ms);
          }
          target.state.failing = false;
          const flushed = engine.flush();
          await vi.runAllTimersAsync();
          await flushed;
          const expected = new Map(store.entities().map((e) => [`${e.type}/${e.id}`, e]));
          expect(new Map(target.rows)).toEqual(expected);
          expect(engine.getQueuedChanges()).toEqual([]);
          await engine.destroy();
          expect(vi.getTimerCount()).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
