import { type } from "arktype";
import { describe, expect, it } from "vitest";
import { FrontendDatabase, persist } from "../../src/database/index.js";
import { KalphiteStore } from "../../src/index.js";

const Two = type({
  id: "string",
  type: "'task'",
  updatedAt: "number",
  data: { title: "string" },
}).or({
  id: "string",
  type: "'tag'",
  updatedAt: "number",
  data: { label: "string" },
});
const IDS = ["x", "it's", "ü🎉", "a/b", "__proto__"];

describe("backup and restore with several types and odd ids", { timeout: 60_000 }, () => {
  it("restores every row and the metadata, and a store reloads them", async () => {
    const source = new FrontendDatabase({ dbName: "memory://", schema: Two });
    const store = KalphiteStore(Two);
    const persistence = await persist(store, source);
    for (const id of IDS) {
      store.task.upsert(id, { id, type: "task", updatedAt: 1, data: { title: `t ${id}` } });
      store.tag.upsert(id, { id, type: "tag", updatedAt: 1, data: { label: `l ${id}` } });
    }
    store.tag.delete("x");
    await persistence.flush();
    await source.setMeta("app:it's", { n: 1 });
    const blob = await source.backup();
    await persistence.stop();
    await source.close();

    const target = new FrontendDatabase({ dbName: "memory://", schema: Two });
    await target.restore(blob);
    const reloaded = KalphiteStore(Two);
    const again = await persist(reloaded, target);
    expect(again.hydrated).toBe(IDS.length * 2 - 1);
    expect(reloaded.task.findById("__proto__")?.data.title).toBe("t __proto__");
    expect(reloaded.tag.has("x")).toBe(false);
    expect(await target.getMeta("app:it's")).toEqual({ n: 1 });
    await again.stop();
    await target.close();
  });
});
