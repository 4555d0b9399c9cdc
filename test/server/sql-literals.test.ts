// A commit's values travel inlined in its statements' text (one round trip per step): quotes,
// backslashes and SQL in ids and entities are stored as sent, never run.
import { describe, expect, it } from "vitest";
import { KalphiteUsageError } from "../../src/core/index.js";
import { decideChange, type IncomingChange } from "../../src/server/conflict.js";
import { pgliteStorage, postgresStorage, type SyncStorage } from "../../src/server/index.js";
import { comment } from "../fixtures/schema.js";
import { POSTGRES_URL, uniqueName } from "./helpers.js";

const variants: [string, () => Promise<SyncStorage>][] = [
  ["pglite", () => pgliteStorage({ tablePrefix: `${uniqueName("l").toLowerCase()}_` })],
  [
    "postgres",
    () => postgresStorage({ url: POSTGRES_URL, tablePrefix: `${uniqueName("l").toLowerCase()}_` }),
  ],
];

const decide = (change: IncomingChange, current: Parameters<typeof decideChange>[0]) =>
  decideChange(current, change, (e) => e);

const nasty = `it's \\'; DROP TABLE x; -- E'\\\\' "☃" \\n`;

function write(id: string, body: string): IncomingChange {
  return {
    messageId: `${nasty}-${id}`,
    userId: nasty,
    timestamp: 1,
    operation: "upsert",
    entityType: "comment",
    entityId: id,
    entity: comment(id, { body }),
    vector: {},
    strategy: "last-write-wins",
  };
}

describe.each(variants)("SQL literals: %s", (_name, open) => {
  it("stores ids and entities full of quotes, backslashes and SQL exactly as sent", async () => {
    const storage = await open();
    try {
      const room = `${uniqueName("room")} ${nasty}`;
      const [outcome] = await storage.commit(room, [write(nasty, nasty)], decide);
      expect(outcome?.entry?.seq).toBe(1);
      const [entry] = await storage.entriesAfter(room, 0);
      expect(entry).toMatchObject({
        messageId: `${nasty}-${nasty}`,
        userId: nasty,
        entityId: nasty,
      });
      expect(entry?.entity).toMatchObject({ data: { body: nasty } });
      const [again] = await storage.commit(room, [write(nasty, nasty)], decide);
      expect(again?.duplicate).toBe(true);
      expect(await storage.head(room)).toBe(1);
    } finally {
      await storage.close();
    }
  }, 120_000);

  it("refuses a room id with a NUL character with a typed error and goes on", async () => {
    const storage = await open();
    try {
      const room = `${uniqueName("room")}\0x`;
      await expect(storage.commit(room, [write("c1", "one")], decide)).rejects.toBeInstanceOf(
        KalphiteUsageError,
      );
      // The storage goes on: the refusal left no transaction open.
      const next = uniqueName("room");
      const [outcome] = await storage.commit(next, [write("c1", "one")], decide);
      expect(outcome?.entry?.seq).toBe(1);
    } finally {
      await storage.close();
    }
  }, 120_000);
});
