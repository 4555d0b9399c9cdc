import { effect } from "@preact/signals-core";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { describe, expect, it } from "vitest";
import {
  type Entity as AnyEntity,
  KalphiteStore,
  KalphiteValidationError,
  type StoreChange,
} from "../../src/core/index.js";
import { type Comment, comment, Entity, type Review, review } from "../fixtures/schema.js";
import { ValibotEntity } from "../fixtures/valibot-schema.js";
import { AsyncZodEntity, ZodEntity } from "../fixtures/zod-schema.js";

type CodeReviewSchema = StandardSchemaV1<unknown, Comment | Review>;

const schemas: [string, CodeReviewSchema][] = [
  ["arktype", Entity as CodeReviewSchema],
  ["zod", ZodEntity as CodeReviewSchema],
  ["valibot", ValibotEntity as CodeReviewSchema],
];

/** Everything observable about a store, to prove a rejected write changed nothing. */
function observe(store: KalphiteStore<Comment | Review>) {
  const events: StoreChange[] = [];
  const notifications: unknown[] = [];
  let effectRuns = 0;
  const stopChanges = store.onChange((change) => events.push(change));
  const stopSubscribe = store.subscribe((changes) => notifications.push(changes));
  const stopEffect = effect(() => {
    effectRuns++;
    store.comment.length;
    store.review.length;
    store.comment.findById("c1");
  });
  const before = {
    comments: [...store.comment],
    reviews: [...store.review],
    json: JSON.stringify(store.entities()),
  };
  return {
    expectUnchanged() {
      expect([...store.comment]).toEqual(before.comments);
      expect(store.comment.length).toBe(before.comments.length);
      expect([...store.review]).toEqual(before.reviews);
      expect(JSON.stringify(store.entities())).toBe(before.json);
      expect(events).toEqual([]);
      expect(notifications).toEqual([]);
      expect(effectRuns).toBe(1);
    },
    stop() {
      stopChanges();
      stopSubscribe();
      stopEffect();
    },
  };
}

function expectValidationError(write: () => unknown): KalphiteValidationError {
  let caught: unknown;
  try {
    write();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(KalphiteValidationError);
  return caught as KalphiteValidationError;
}

describe.each(schemas)("KalphiteStore with a %s schema", (_name, schema) => {
  function seededStore() {
    const store = KalphiteStore(schema);
    store.comment.upsert("c1", comment("c1"));
    store.review.upsert("r1", review("r1"));
    return store;
  }

  it("validates and stores entities in the collection of their type", () => {
    const store = seededStore();
    const stored = store.comment.upsert("c2", comment("c2", { lineNumber: 7 }));
    expect(stored).toEqual(comment("c2", { lineNumber: 7 }));
    expect(store.comment.findById("c2")).toEqual(stored);
    expect(store.comment.map((c) => c.id)).toEqual(["c1", "c2"]);
    expect(store.review.map((r) => r.id)).toEqual(["r1"]);
    expect(store.entityTypes().sort()).toEqual(["comment", "review"]);
  });

  it("replaces an entity written again under the same id", () => {
    const store = seededStore();
    store.comment.upsert("c1", comment("c1", { status: "resolved" }, 2));
    expect(store.comment.length).toBe(1);
    expect(store.comment.findById("c1")?.data.status).toBe("resolved");
  });

  it("rejects an entity the schema fails, with its issues, and changes nothing", () => {
    const store = seededStore();
    const observer = observe(store);
    const bad = { ...comment("c1"), data: { body: 42, lineNumber: "x", status: "open" } };
    const error = expectValidationError(() => store.comment.upsert("c1", bad as never));
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.entityType).toBe("comment");
    expect(error.entityId).toBe("c1");
    expect(error.message).toMatch(/Invalid comment "c1"/);
    observer.expectUnchanged();
    observer.stop();
  });

  it("rejects an entity whose type is not the collection's, and changes nothing", () => {
    const store = seededStore();
    const observer = observe(store);
    const error = expectValidationError(() => store.comment.upsert("r2", review("r2") as never));
    expect(error.message).toMatch(/store\.review/);
    observer.expectUnchanged();
    observer.stop();
  });

  it("rejects an entity whose id differs from the id argument, and changes nothing", () => {
    const store = seededStore();
    const observer = observe(store);
    const error = expectValidationError(() => store.comment.upsert("c1", comment("other")));
    expect(error.message).toMatch(/"other".*"c1"/);
    expectValidationError(() => store.comment.upsert("", comment("")));
    observer.expectUnchanged();
    observer.stop();
  });

  it("upsertMany stores all entities, or none when one is invalid", () => {
    const store = seededStore();
    const written = store.comment.upsertMany([comment("c2"), comment("c3")]);
    expect(written.map((c) => c.id)).toEqual(["c2", "c3"]);
    expect(store.comment.length).toBe(3);

    const observer = observe(store);
    const batch = [comment("c4"), comment("c5"), { ...comment("c6"), updatedAt: "late" }];
    const error = expectValidationError(() => store.comment.upsertMany(batch as Comment[]));
    expect(error.issues.length).toBeGreaterThan(0);
    expectValidationError(() => store.comment.upsertMany([comment("c7"), review("r7") as never]));
    expect(store.comment.findById("c4")).toBeUndefined();
    observer.expectUnchanged();
    observer.stop();
  });

  it("delete returns whether the entity existed; deleteMany counts the deleted", () => {
    const store = seededStore();
    store.comment.upsertMany([comment("c2"), comment("c3"), comment("c4")]);
    expect(store.comment.delete("c1")).toBe(true);
    expect(store.comment.delete("c1")).toBe(false);
    expect(store.comment.delete("missing")).toBe(false);
    expect(store.review.delete("c2")).toBe(false);
    expect(store.comment.deleteMany(["c2", "c3", "c3", "nope"])).toBe(2);
    expect(store.comment.map((c) => c.id)).toEqual(["c4"]);
    expect(store.review.length).toBe(1);
  });

  it("keeps its own copy: mutating the written object afterwards changes nothing", () => {
    const store = seededStore();
    const mine = comment("c2", { body: "original" });
    const stored = store.comment.upsert("c2", mine);
    mine.data.body = "mutated";
    mine.updatedAt = 99;
    expect(store.comment.findById("c2")?.data.body).toBe("original");
    expect(stored.data.body).toBe("original");
    expect(store.comment.findById("c2")?.updatedAt).toBe(1);

    const many = [comment("c3", { body: "original" })];
    store.comment.upsertMany(many);
    many[0]!.data.body = "mutated";
    expect(store.comment.findById("c3")?.data.body).toBe("original");
  });

  it("hands out frozen entities, all the way down: changing one in place throws and changes nothing", () => {
    const store = seededStore();
    const open = store.comment.live.where((c) => c.data.status === "open");
    const stop = open.subscribe(() => {});
    const changes: StoreChange<Comment | Review>[] = [];
    store.onChange((change) => changes.push(change));
    const stored = store.comment.upsert("c2", comment("c2", { body: "original" }));
    const handedOut = [
      stored,
      store.comment.findById("c2")!,
      store.comment.signal("c2").value!,
      store.comment.find((c) => c.id === "c2")!,
      open.value.find((c) => c.id === "c2")!,
      changes[0]!.entity as Comment,
    ];
    for (const entity of handedOut) {
      expect(entity).toBe(stored);
      expect(Object.isFrozen(entity) && Object.isFrozen(entity.data)).toBe(true);
      expect(() => {
        entity.data.status = "resolved";
      }).toThrow(TypeError);
      expect(() => {
        (entity as { updatedAt: number }).updatedAt = 2;
      }).toThrow(TypeError);
    }
    expect(store.comment.findById("c2")?.data.status).toBe("open");
    expect(open.value.map((c) => c.id)).toContain("c2");

    // The way to change an entity: a changed copy, written back.
    const current = store.comment.findById("c2")!;
    store.comment.upsert("c2", { ...current, data: { ...current.data, status: "resolved" } });
    expect(open.value.map((c) => c.id)).not.toContain("c2");
    stop();
  });
});

describe("entities are immutable values", () => {
  it("validates a stored entity once: written back as is, it is not validated again; a copy of it is", () => {
    let validations = 0;
    const Counted = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (value: unknown) => {
          validations++;
          const body = (value as { data?: { body?: unknown } }).data?.body;
          return typeof body === "string"
            ? { value }
            : { issues: [{ message: "body must be a string", path: ["data", "body"] }] };
        },
      },
    } as StandardSchemaV1<unknown, AnyEntity & { data: { body: string } }>;
    const store = KalphiteStore(Counted);
    const notes = store.collection("note");
    const stored = notes.upsert("n1", {
      id: "n1",
      type: "note",
      updatedAt: 1,
      data: { body: "hi" },
    });
    expect(validations).toBe(1);
    // The store's own frozen entity, handed back: nothing to validate or copy.
    expect(notes.upsert("n1", stored)).toBe(stored);
    expect(validations).toBe(1);
    // Spreads and JSON round-trips carry no mark: they are validated (and refused when invalid).
    const spread = { ...stored, data: { body: 42 } } as unknown as typeof stored;
    expect(() => notes.upsert("n1", spread)).toThrow(KalphiteValidationError);
    expect(validations).toBe(2);
    notes.upsert("n1", JSON.parse(JSON.stringify(stored)));
    expect(validations).toBe(3);
    expect(Object.keys(notes.findById("n1")!)).toEqual(["id", "type", "updatedAt", "data"]);
    expect(JSON.stringify(stored)).toBe(
      '{"id":"n1","type":"note","updatedAt":1,"data":{"body":"hi"}}',
    );
  });

  it("keeps an own __proto__ key (from JSON.parse) as data, without changing the prototype", () => {
    const Loose = {
      "~standard": { version: 1, vendor: "test", validate: (value: unknown) => ({ value }) },
    } as StandardSchemaV1<unknown, AnyEntity & { data: Record<string, unknown> }>;
    const store = KalphiteStore(Loose);
    const data = JSON.parse('{"__proto__": {"polluted": true}, "body": "hi"}');
    const note = store
      .collection("note")
      .upsert("n1", { id: "n1", type: "note", updatedAt: 1, data });
    expect(Object.getPrototypeOf(note.data)).toBe(Object.prototype);
    expect(Object.keys(note.data)).toEqual(["__proto__", "body"]);
    expect((note.data as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.isFrozen(note.data)).toBe(true);
  });

  it("freezes nested arrays too, and copies dates rather than sharing them", () => {
    const Tagged = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (value: unknown) => ({ value }),
      },
    } as StandardSchemaV1<unknown, AnyEntity & { data: { tags: string[]; at: Date } }>;
    const store = KalphiteStore(Tagged);
    const at = new Date(5);
    const note = store
      .collection("note")
      .upsert("n1", { id: "n1", type: "note", updatedAt: 1, data: { tags: ["a"], at } });
    expect(() => note.data.tags.push("b")).toThrow(TypeError);
    expect(note.data.at).not.toBe(at);
    expect(note.data.at.getTime()).toBe(5);
  });
});

describe("entities PostgreSQL can store", () => {
  const Loose = {
    "~standard": { version: 1, vendor: "test", validate: (value: unknown) => ({ value }) },
  } as StandardSchemaV1<unknown, AnyEntity & { data: Record<string, unknown> }>;

  it("refuses U+0000 and lone surrogates, in values, array items and keys, with the path", () => {
    const store = KalphiteStore(Loose);
    const notes = store.collection("note");
    notes.upsert("n1", { id: "n1", type: "note", updatedAt: 1, data: { body: "fine 😀" } });
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ body: "a\u0000b" }, /entity\.data\.body is a string PostgreSQL cannot store/],
      [{ body: "half \ud83d" }, /entity\.data\.body/],
      [{ tags: ["ok", "\udc00"] }, /entity\.data\.tags\.1/],
      [{ "bad\u0000key": 1 }, /entity\.data key "bad\\u0000key"/],
    ];
    for (const [data, message] of bad) {
      let caught: unknown;
      try {
        notes.upsert("n1", { id: "n1", type: "note", updatedAt: 2, data });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(KalphiteValidationError);
      expect((caught as Error).message).toMatch(message);
    }
    expect(notes.findById("n1")?.data).toEqual({ body: "fine 😀" });
    expect(() =>
      store.apply(
        [
          {
            operation: "upsert",
            entityType: "note",
            entityId: "n2",
            entity: { id: "n2", type: "note", updatedAt: 1, data: { body: "\u0000" } },
          },
        ],
        "remote",
      ),
    ).toThrow(KalphiteValidationError);
    expect(notes.length).toBe(1);
  });
});

describe("KalphiteStore validation edge cases", () => {
  it("refuses an async schema with KalphiteValidationError and changes nothing", () => {
    const store = KalphiteStore(AsyncZodEntity);
    const observer = observe(store as KalphiteStore<Comment | Review>);
    const error = expectValidationError(() => store.comment.upsert("c1", comment("c1")));
    expect(error.message).toMatch(/async/);
    expectValidationError(() => store.comment.upsertMany([comment("c1")]));
    expect(store.comment.length).toBe(0);
    observer.expectUnchanged();
    observer.stop();
  });

  it("copies entities even when the schema passes nested objects through unchanged", () => {
    // A schema with a loose `data` hands back the caller's nested object.
    const Loose = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (value: unknown) => ({ value: { ...(value as object) } }),
      },
    } as StandardSchemaV1<unknown, AnyEntity & { data: { body: string } }>;
    const store = KalphiteStore(Loose);
    const mine = { id: "n1", type: "note", updatedAt: 1, data: { body: "original" } };
    store.collection("note").upsert("n1", mine);
    mine.data.body = "mutated";
    expect(store.collection("note").findById("n1")?.data.body).toBe("original");
  });

  it("rejects a schema output that is not an entity", () => {
    const NoTimestamp = {
      "~standard": { version: 1, vendor: "test", validate: (value: unknown) => ({ value }) },
    } as StandardSchemaV1<unknown, AnyEntity>;
    const store = KalphiteStore(NoTimestamp);
    expectValidationError(() =>
      store.collection("note").upsert("n1", { id: "n1", type: "note" } as AnyEntity),
    );
    expectValidationError(() =>
      store.collection("note").upsert("n1", { id: "n1", type: "note", updatedAt: Number.NaN }),
    );
    expectValidationError(() => store.collection("note").upsert("n1", null as never));
    expect(store.collection("note").length).toBe(0);
  });

  it("needs a Standard Schema", () => {
    expect(() => KalphiteStore({} as never)).toThrow(/Standard Schema/);
  });

  it("cannot have its collections assigned", () => {
    const store = KalphiteStore(Entity);
    expect(() => {
      (store as unknown as Record<string, unknown>).comment = [];
    }).toThrow(/upsert/);
  });
});
