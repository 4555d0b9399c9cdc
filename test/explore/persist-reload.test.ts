import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type } from "arktype";
import { afterEach, describe, expect, it } from "vitest";
import { FrontendDatabase, persist } from "../../src/database/index.js";
import { KalphiteStore } from "../../src/index.js";

const Three = type({
  id: "string",
  type: "'task'",
  updatedAt: "number",
  data: { title: "string", done: "boolean" },
})
  .or({ id: "string", type: "'tag'", updatedAt: "number", data: { label: "string" } })
  .or({
    id: "string",
    type: "'note'",
    updatedAt: "number",
    data: { text: "string", tags: "string[]" },
  });
type Three = typeof Three.infer;

const task = (id: string, title = id, done = false) => ({
  id,
  type: "task" as const,
  updatedAt: 1,
  data: { title, done },
});
const tag = (id: string, label = id) => ({
  id,
  type: "tag" as const,
  updatedAt: 1,
  data: { label },
});
const note = (id: string, text = id, tags: string[] = []) => ({
  id,
  type: "note" as const,
  updatedAt: 1,
  data: { text, tags },
});

const ODD_IDS = [
  "x",
  "it's",
  'say "hi"',
  "back\\slash",
  "semi;--",
  "ü🎉",
  "a/b",
  "%_",
  "  spaced  ",
  "line\nbreak",
];

let dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  dirs = [];
});

async function open(dir: string) {
  const db = new FrontendDatabase<Three>({ dbName: dir, schema: Three });
  const store = KalphiteStore(Three);
  const persistence = await persist(store, db);
  return { db, store, persistence };
}

// Compared as values: a reload may order an entity's keys differently (see the last test).
const snapshot = (store: ReturnType<typeof KalphiteStore<typeof Three>>) =>
  [...store.entities()].sort((a, b) => (`${a.type}/${a.id}` < `${b.type}/${b.id}` ? -1 : 1));

describe("persist() and reload with several entity types", () => {
  it("reloads every type, the same ids in different types, odd ids, deletes and re-creates", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kalphite-explore-"));
    dirs.push(dir);
    const first = await open(join(dir, "db"));
    const { store } = first;
    for (const id of ODD_IDS) {
      store.task.upsert(id, task(id));
      store.tag.upsert(id, tag(id));
      store.note.upsert(id, note(id, id, [id]));
    }
    await first.persistence.flush();
    // Deleted then re-created before a flush, re-created after a flush, deleted for good.
    store.task.delete("x");
    store.task.upsert("x", task("x", "again"));
    store.tag.delete("it's");
    await first.persistence.flush();
    store.tag.upsert("it's", tag("it's", "back"));
    store.note.delete('say "hi"');
    store.batch(() => {
      store.note.upsert("new", note("new"));
      store.note.delete("new");
    });
    await first.persistence.stop();
    const before = snapshot(store);
    await first.db.close();

    const second = await open(join(dir, "db"));
    expect(snapshot(second.store)).toEqual(before);
    expect(second.persistence.hydrated).toBe(ODD_IDS.length * 3 - 1);
    expect(second.store.task.findById("x")?.data.title).toBe("again");
    expect(second.store.tag.findById("it's")?.data.label).toBe("back");
    expect(second.store.note.findById("new")).toBeUndefined();
    expect(await second.db.getByType("tag")).toHaveLength(ODD_IDS.length);
    await second.persistence.stop();
    await second.db.close();
  });

  it("an empty database hydrates nothing, and a store's own entities are written to it", async () => {
    const db = new FrontendDatabase<Three>({ dbName: "memory://", schema: Three });
    const store = KalphiteStore(Three);
    store.tag.upsert("t", tag("t"));
    const persistence = await persist(store, db);
    expect(persistence.hydrated).toBe(0);
    await persistence.flush();
    expect(await db.getById("tag", "t")).toEqual(tag("t"));
    await persistence.stop();
    await db.close();
  });

  it("persist() twice on the same store and database does not duplicate or lose writes", async () => {
    const db = new FrontendDatabase<Three>({ dbName: "memory://", schema: Three });
    const store = KalphiteStore(Three);
    const first = await persist(store, db);
    store.task.upsert("a", task("a"));
    await first.stop();
    const second = await persist(store, db);
    expect(second.hydrated).toBe(0);
    store.task.upsert("b", task("b"));
    await second.flush();
    expect((await db.getByType("task")).map((t) => t.id).sort()).toEqual(["a", "b"]);
    await second.stop();
    await db.close();
  });
});
