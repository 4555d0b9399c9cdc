import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Entity } from "../../src/core/index.js";
import { dominates, isConcurrent, mergeVectors } from "../../src/protocol/index.js";
import {
  type CurrentVersion,
  compareLastWrite,
  decideChange,
  type IncomingChange,
  mergeFields,
} from "../../src/server/conflict.js";
import { comment } from "../fixtures/schema.js";

const current = (
  entity: Entity | null,
  vector: Record<string, number>,
  extra: Partial<CurrentVersion> = {},
): CurrentVersion => ({
  entity,
  vector,
  // The server stores the time it ordered a version at: its updatedAt, bounded by its clock.
  timestamp: entity?.updatedAt ?? 1,
  userId: "ann",
  messageId: "m-ann",
  ...extra,
});

const incoming = (
  entity: Entity | undefined,
  vector: Record<string, number>,
  extra: Partial<IncomingChange> = {},
): IncomingChange => ({
  messageId: "m-bob",
  userId: "bob",
  timestamp: 1,
  operation: entity ? "upsert" : "delete",
  entityType: "comment",
  entityId: "c1",
  ...(entity ? { entity } : {}),
  vector,
  strategy: "last-write-wins",
  ...extra,
});

const accept = (d: ReturnType<typeof decideChange>) => {
  if (!d.accept) throw new Error(d.message);
  return d;
};

describe("vector clocks", () => {
  it("dominates, concurrency and merge", () => {
    expect(dominates({ a: 2, b: 1 }, { a: 1 })).toBe(true);
    expect(dominates({ a: 1 }, { a: 1, b: 1 })).toBe(false);
    expect(isConcurrent({ a: 1 }, { b: 1 })).toBe(true);
    expect(mergeVectors({ a: 2 }, { a: 1, b: 3 })).toEqual({ a: 2, b: 3 });
  });
});

describe("decideChange", () => {
  it("applies a change made on the current version as is, and bumps the writer", () => {
    const d = accept(
      decideChange(
        current(comment("c1"), { ann: 1 }),
        incoming(comment("c1", { body: "new" }), { ann: 1 }),
        (e) => e,
      ),
    );
    expect(d.conflict).toBeUndefined();
    expect(d.entity).toMatchObject({ data: { body: "new" } });
    expect(d.vector).toEqual({ ann: 1, bob: 1 });
  });

  it("refuses a vector claiming unseen edits of another user", () => {
    const d = decideChange(
      current(comment("c1"), { ann: 1 }),
      incoming(comment("c1"), { ann: 2 }),
      (e) => e,
    );
    expect(d.accept).toBe(false);
  });

  it("last-write-wins: the later updatedAt wins, ties break by user then message id", () => {
    const older = accept(
      decideChange(
        current(comment("c1", {}, 5), { ann: 1 }),
        incoming(comment("c1", { body: "bob" }, 4), {}),
        (e) => e,
      ),
    );
    expect(older.entity?.updatedAt).toBe(5);
    expect(older.conflict).toBeDefined();
    const tie = accept(
      decideChange(
        current(comment("c1", {}, 5), { ann: 1 }),
        incoming(comment("c1", { body: "bob" }, 5), {}),
        (e) => e,
      ),
    );
    expect((tie.entity as ReturnType<typeof comment>).data.body).toBe("bob"); // "bob" > "ann"
    expect(
      compareLastWrite(
        { time: 1, userId: "a", messageId: "2" },
        { time: 1, userId: "a", messageId: "1" },
      ),
    ).toBeGreaterThan(0);
  });

  it("last-write-wins orders by updatedAt bounded by the server's clock (latestTime)", () => {
    const decade = 10 * 365 * 24 * 3_600_000;
    // A liar at server time 1,000 claims updatedAt 10 years ahead: ordered at 1,000.
    const lie = accept(
      decideChange(
        undefined,
        incoming(comment("c1", { body: "lie" }, 1_000 + decade), {}),
        (e) => e,
        {
          latestTime: 1_000,
        },
      ),
    );
    expect(lie.time).toBe(1_000);
    expect(lie.entity?.updatedAt).toBe(1_000 + decade); // stored as sent
    const stored = current(lie.entity, lie.vector, { timestamp: lie.time, userId: "zed" });
    // An honest concurrent edit made later (2,000) wins, though its updatedAt is far smaller.
    const honest = accept(
      decideChange(stored, incoming(comment("c1", { body: "honest" }, 2_000), {}), (e) => e, {
        latestTime: 2_000,
      }),
    );
    expect((honest.entity as ReturnType<typeof comment>).data.body).toBe("honest");
    expect(honest.conflict).toBeDefined();
    // One made earlier than the lie (500) still loses to it.
    const earlier = accept(
      decideChange(stored, incoming(comment("c1", { body: "early" }, 500), {}), (e) => e, {
        latestTime: 2_000,
      }),
    );
    expect((earlier.entity as ReturnType<typeof comment>).data.body).toBe("lie");
  });

  it("an edit of a version the server no longer has (a forgotten tombstone) is stored as a conflict", () => {
    const d = accept(decideChange(undefined, incoming(comment("c1"), { bob: 2 }), (e) => e));
    expect(d.entity).toMatchObject({ id: "c1" });
    expect(d.conflict).toEqual({
      strategy: "last-write-wins",
      attempted: comment("c1"),
      current: null,
    });
    // A new entity (nothing edited before) is no conflict.
    expect(accept(decideChange(undefined, incoming(comment("c2"), {}), (e) => e)).conflict).toBe(
      undefined,
    );
  });

  it("operational-transform merges the edited fields of data", () => {
    const server: Entity = comment("c1", { body: "ann's body", status: "open" }, 2);
    const mine = comment("c1", { body: "old", status: "resolved" }, 3);
    const d = accept(
      decideChange(
        current(server, { ann: 1 }),
        incoming(mine, {}, { strategy: "operational-transform", changedFields: ["status"] }),
        (e) => e,
      ),
    );
    expect(d.entity).toMatchObject({
      updatedAt: 3,
      data: { body: "ann's body", status: "resolved" },
    });
    expect(mergeFields(null, mine)).toBe(mine);
  });

  it("operational-transform orders by updatedAt bounded by the server's clock (latestTime)", () => {
    const decade = 10 * 365 * 24 * 3_600_000;
    const ot = { strategy: "operational-transform" as const };
    // A liar at server time 1,000 claims updatedAt 10 years ahead: stored, ordered at 1,000.
    const lie = comment("c1", { body: "lie", status: "open" }, 1_000 + decade);
    const stored = current(lie, { zed: 1 }, { timestamp: 1_000, userId: "zed" });
    // An honest concurrent edit at 2,000 merges its field, and its time is the merge's.
    const merged = accept(
      decideChange(
        stored,
        incoming(
          comment("c1", { status: "resolved" }, 2_000),
          {},
          {
            ...ot,
            changedFields: ["status"],
          },
        ),
        (e) => e,
        { latestTime: 2_000 },
      ),
    );
    expect(merged.entity).toMatchObject({
      updatedAt: 2_000,
      data: { body: "lie", status: "resolved" },
    });
    expect(merged.time).toBe(2_000);
    // A `data` that is not a record is taken whole from the later version by bounded time.
    const raw = (data: unknown, updatedAt: number) =>
      ({ id: "c1", type: "comment", updatedAt, data }) as unknown as Entity;
    const whole = accept(
      decideChange(
        current(raw("lie", 1_000 + decade), { zed: 1 }, { timestamp: 1_000, userId: "zed" }),
        incoming(raw("honest", 2_000), {}, ot),
        (e) => e,
        { latestTime: 2_000 },
      ),
    );
    expect((whole.entity as unknown as { data: unknown }).data).toBe("honest");
    // The other way round: a lying incoming edit is ordered at the server's clock and loses
    // the top level to a current version written later than that.
    const late = current(raw("honest", 3_000), { ann: 1 }, { timestamp: 3_000 });
    const liar = incoming(raw("lie", 3_000 + decade), {}, { ...ot, userId: "zed" });
    expect(
      (
        accept(decideChange(late, liar, (e) => e, { latestTime: 2_500 })).entity as unknown as {
          data: unknown;
        }
      ).data,
    ).toBe("honest");
    expect(
      mergeFields(lie, comment("c1", { status: "resolved" }, 2_000), ["status"], {
        current: 1_000,
        incoming: 2_000,
      })?.updatedAt,
    ).toBe(2_000);
  });

  it("manual keeps the current version and its vector (the client resolves)", () => {
    const server = comment("c1", { body: "ann" });
    const d = accept(
      decideChange(
        current(server, { ann: 1 }),
        incoming(comment("c1", { body: "bob" }, 9), {}, { strategy: "manual" }),
        (e) => e,
      ),
    );
    expect(d.entity).toBe(server);
    expect(d.vector).toEqual({ ann: 1 });
    expect(d.conflict?.strategy).toBe("manual");
  });

  it("is deterministic: the same inputs give the same result (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 5 }),
        fc.constantFrom("last-write-wins", "operational-transform", "manual" as const),
        (t1, t2, strategy) => {
          const run = () =>
            decideChange(
              current(comment("c1", { body: "a" }, t1), { ann: 1 }),
              incoming(comment("c1", { body: "b" }, t2), {}, { strategy }),
              (e) => e,
            );
          expect(run()).toEqual(run());
        },
      ),
    );
  });
});
