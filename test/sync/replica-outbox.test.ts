// The replica indexes its outbox (by message id, by entity) so no write or received entry scans
// it. The indexes must never change what it does: random local writes, acknowledgements (in
// order or not), refusals, other users' entries, snapshots and reloads are checked, step by step,
// against a naive model that keeps the outbox as a plain list and recomputes everything from it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Entity as AnyEntity, KalphiteStore, type StoreChange } from "../../src/core/index.js";
import type { LogEntry, SnapshotEntity } from "../../src/protocol/messages.js";
import { memoryPersistence, type OutboxEntry } from "../../src/sync/index.js";
import { Replica } from "../../src/sync/replica.js";
import type { VectorClock } from "../../src/sync/types.js";
import { comment, Entity, review } from "../fixtures/schema.js";

const TYPES = ["comment", "review"] as const;
/** Ids that share characters with the entity keys (an index keyed by a bad key would mix them). */
const IDS = ["c1", "c2", "a:b", "7:comment:c1", "1:x"] as const;

type EntityType = (typeof TYPES)[number];

/** One step of a client's life. Numbers pick an entity or an outbox entry, modulo the choices. */
type Step =
  | { kind: "write"; type: number; id: number; remove: boolean; line: number }
  | { kind: "ack"; pick: number; inOrder: boolean; serverLine: number | null }
  | { kind: "refuse"; pick: number }
  | { kind: "remote"; type: number; id: number; remove: boolean; line: number }
  | { kind: "snapshot"; keep: boolean[]; line: number }
  | { kind: "reload"; sentBefore: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("write" as const),
      type: fc.nat(),
      id: fc.nat(),
      remove: fc.boolean(),
      line: fc.nat(99),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("ack" as const),
      pick: fc.nat(),
      inOrder: fc.boolean(),
      serverLine: fc.option(fc.nat(99)),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("refuse" as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("remote" as const),
      type: fc.nat(),
      id: fc.nat(),
      remove: fc.boolean(),
      line: fc.nat(99),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("snapshot" as const),
      keep: fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
      line: fc.nat(99),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("reload" as const), sentBefore: fc.nat(2) }),
  },
);

function entityOf(type: EntityType, id: string, line: number): AnyEntity {
  return type === "comment" ? comment(id, { lineNumber: line }) : review(id, `title ${line}`);
}

const keyOf = (type: string, id: string) => JSON.stringify([type, id]);

/** What the replica should hold, kept the naive way. */
interface Model {
  cursor: number;
  confirmed: Map<string, { entity: AnyEntity | null; vector: VectorClock }>;
  outbox: OutboxEntry[];
}

/** A replica over a real store and a memory persistence, with local writes going to its outbox. */
function client(persistence: ReturnType<typeof memoryPersistence>, ids: { next: number }) {
  const store = KalphiteStore(Entity);
  const errors: unknown[] = [];
  const replica = new Replica({
    store,
    persistence,
    userId: "me",
    resolution: { strategy: "last-write-wins" },
    createId: () => `m${ids.next++}`,
    now: () => 0,
    emitChange: () => {},
    emitConflict: () => {},
    emitError: (error) => errors.push(error),
    forget: () => {},
  });
  let loaded = false;
  store.onChange((change) => {
    if (change.origin === "local" && loaded) replica.add(replica.entryFor(change), true);
  });
  return {
    store,
    replica,
    errors,
    loaded: () => {
      loaded = true;
    },
  };
}

describe("the replica's indexed outbox", () => {
  it("keeps the outbox, each entity's pending count and the shown entity as a naive recompute", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const persistence = memoryPersistence();
        const ids = { next: 0 };
        let c = client(persistence, ids);
        c.loaded();
        const model: Model = { cursor: 0, confirmed: new Map(), outbox: [] };
        const removed: string[] = [];
        const universe = TYPES.flatMap((type) => IDS.map((id) => [type, id] as const));

        const deliver = (entry: LogEntry) => {
          c.store.batch(() => {
            expect(c.replica.receive(entry)).toBe(true);
            c.replica.drain();
          });
          model.cursor = entry.seq;
          model.confirmed.set(keyOf(entry.entityType, entry.entityId), {
            entity: entry.entity ?? null,
            vector: entry.vector,
          });
        };
        const takeFromModel = (messageId: string) => {
          const index = model.outbox.findIndex((e) => e.messageId === messageId);
          model.outbox.splice(index, 1);
          removed.push(messageId);
        };

        const check = () => {
          expect(c.errors).toEqual([]);
          const outboxIds = model.outbox.map((e) => e.messageId);
          expect(c.replica.outbox.map((e) => e.messageId)).toEqual(outboxIds);
          expect(persistence.state?.outbox.map((e) => e.messageId) ?? []).toEqual(outboxIds);
          expect(c.replica.cursor).toBe(model.cursor);
          for (const id of outboxIds) expect(c.replica.has(id)).toBe(true);
          for (const id of removed) expect(c.replica.has(id)).toBe(false);
          for (const [type, id] of universe) {
            const pending = model.outbox.filter((e) => e.entityType === type && e.entityId === id);
            const confirmed = model.confirmed.get(keyOf(type, id));
            const newest = pending.at(-1);
            const shown = newest ? (newest.entity ?? null) : (confirmed?.entity ?? null);
            expect(c.store.collection(type).findById(id) ?? null).toEqual(shown);
            // A change made now predicts one step of this client's per pending change.
            const change: StoreChange = {
              operation: "upsert",
              entityType: type,
              entityId: id,
              entity: entityOf(type, id, 0),
              origin: "local",
            };
            const base = confirmed?.vector ?? {};
            const expected = { ...base, me: (base.me ?? 0) + pending.length };
            if (expected.me === 0) delete (expected as VectorClock).me;
            expect(c.replica.entryFor(change).vector).toEqual(expected);
          }
        };

        for (const s of steps) {
          switch (s.kind) {
            case "write": {
              const type = TYPES[s.type % TYPES.length]!;
              const id = IDS[s.id % IDS.length]!;
              const before = c.replica.outbox.length;
              const collection = type === "comment" ? c.store.comment : c.store.review;
              if (s.remove) collection.delete(id);
              else collection.upsert(id, entityOf(type, id, s.line) as never);
              // A delete of what is not shown changes nothing and queues nothing.
              if (c.replica.outbox.length > before) model.outbox.push(c.replica.outbox.at(-1)!);
              break;
            }
            case "ack": {
              if (model.outbox.length === 0) break;
              const entry = model.outbox[s.inOrder ? 0 : s.pick % model.outbox.length]!;
              // The server may have stored something else (a concurrent edit won).
              const entity =
                s.serverLine === null
                  ? entry.entity
                  : entityOf(entry.entityType as EntityType, entry.entityId, s.serverLine);
              deliver({
                seq: model.cursor + 1,
                messageId: entry.messageId,
                userId: "me",
                timestamp: 0,
                operation: entity ? "upsert" : "delete",
                entityType: entry.entityType,
                entityId: entry.entityId,
                ...(entity ? { entity } : {}),
                vector: { ...entry.vector, me: (entry.vector.me ?? 0) + 1 },
              } as LogEntry);
              takeFromModel(entry.messageId);
              break;
            }
            case "refuse": {
              if (model.outbox.length === 0) break;
              const entry = model.outbox[s.pick % model.outbox.length]!;
              c.store.batch(() => expect(c.replica.drop(entry.messageId)).toBe(entry));
              takeFromModel(entry.messageId);
              break;
            }
            case "remote": {
              const type = TYPES[s.type % TYPES.length]!;
              const id = IDS[s.id % IDS.length]!;
              deliver({
                seq: model.cursor + 1,
                messageId: `other-${model.cursor + 1}`,
                userId: "other",
                timestamp: 0,
                operation: s.remove ? "delete" : "upsert",
                entityType: type,
                entityId: id,
                ...(s.remove ? {} : { entity: entityOf(type, id, s.line) }),
                vector: { other: model.cursor + 1 },
              } as LogEntry);
              break;
            }
            case "snapshot": {
              const head = model.cursor + 1;
              const snapshot: SnapshotEntity[] = universe
                .filter((_, i) => s.keep[i])
                .map(([type, id]) => ({
                  entityType: type,
                  entityId: id,
                  entity: entityOf(type, id, s.line),
                  vector: { other: head },
                  seq: head,
                }));
              c.store.batch(() => c.replica.applySnapshot(snapshot, head));
              model.cursor = head;
              model.confirmed = new Map(
                snapshot.map((v) => [
                  keyOf(v.entityType, v.entityId),
                  { entity: v.entity, vector: v.vector },
                ]),
              );
              break;
            }
            case "reload": {
              c.replica.recordCursor();
              await persistence.flush();
              const state = await persistence.load();
              c = client(persistence, ids);
              // Changes queued while the saved state loads (sendChange) go after the saved ones.
              const early: OutboxEntry[] = [];
              for (let i = 0; i < s.sentBefore; i++) {
                const entry: OutboxEntry = {
                  messageId: `m${ids.next++}`,
                  timestamp: 0,
                  operation: "upsert",
                  entityType: "comment",
                  entityId: "c1",
                  entity: comment("c1", { lineNumber: 100 + i }),
                  vector: {},
                  strategy: "last-write-wins",
                };
                c.replica.add(entry, false);
                early.push(entry);
              }
              if (state) c.replica.restore(state);
              c.loaded();
              // A change queued that way is not the store's: it shows once its entity is refreshed.
              if (early.length > 0) c.store.batch(() => c.replica.refresh("comment", "c1"));
              model.outbox.push(...early);
              if (!state) model.cursor = 0;
              break;
            }
          }
          check();
        }
      }),
      { numRuns: 300 },
    );
  });

  it("a message id in the outbox twice leaves it one entry at a time, oldest first", () => {
    const c = client(memoryPersistence(), { next: 0 });
    c.loaded();
    const entry = (entityId: string, lineNumber: number): OutboxEntry => ({
      messageId: "x",
      timestamp: 0,
      operation: "upsert",
      entityType: "comment",
      entityId,
      entity: comment(entityId, { lineNumber }),
      vector: {},
      strategy: "last-write-wins",
    });
    const first = entry("c1", 1);
    const second = entry("c2", 2);
    c.replica.add(first, false);
    c.replica.add(second, false);
    expect(c.store.batch(() => c.replica.drop("x"))).toBe(first);
    expect(c.replica.has("x")).toBe(true);
    expect(c.replica.outbox).toEqual([second]);
    expect(c.store.batch(() => c.replica.drop("x"))).toBe(second);
    expect(c.replica.has("x")).toBe(false);
    expect(c.replica.outbox).toEqual([]);
    expect(c.store.batch(() => c.replica.drop("x"))).toBeUndefined();
  });
});
