// On PostgreSQL a commit's entries travel with its NOTIFY (in pages under PostgreSQL's 8000-byte
// limit), so other processes broadcast them without reading the log; a commit too large for
// that announces its head alone, and they read the log as before.
import { afterEach, describe, expect, it } from "vitest";
import type { LogEntry } from "../../src/protocol/messages.js";
import { decideChange, type IncomingChange } from "../../src/server/conflict.js";
import { postgresStorage, type SyncStorage } from "../../src/server/index.js";
import { comment } from "../fixtures/schema.js";
import { POSTGRES_URL, uniqueName, withTimeout } from "./helpers.js";

const open: SyncStorage[] = [];
afterEach(async () => {
  for (const storage of open.splice(0)) await storage.close();
});

const decide = (change: IncomingChange, current: Parameters<typeof decideChange>[0]) =>
  decideChange(current, change, (e) => e);

function write(n: number, body: string): IncomingChange {
  return {
    messageId: `m${n}`,
    userId: "ann",
    timestamp: 1,
    operation: "upsert",
    entityType: "comment",
    entityId: `c${n}`,
    entity: comment(`c${n}`, { body }),
    vector: {},
    strategy: "last-write-wins",
  };
}

/** What `storage` hears of `room`: heads, and the entries that came with them. */
function listen(storage: SyncStorage, room: string) {
  const heard: { head: number; byThisProcess: boolean; entries?: readonly LogEntry[] }[] = [];
  storage.onCommit((r, head, byThisProcess, entries) => {
    if (r === room) heard.push({ head, byThisProcess, ...(entries ? { entries } : {}) });
  });
  /** Resolves once an announcement passes `test`. */
  const until = (test: (h: (typeof heard)[number]) => boolean, what: string) =>
    withTimeout(
      new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (heard.some(test)) {
            clearInterval(check);
            resolve();
          }
        }, 10);
      }),
      10_000,
      what,
    );
  return { heard, until };
}

/** Two storages on one PostgreSQL (as two server processes would hold), and a room. */
async function twoProcesses() {
  const tablePrefix = `${uniqueName("n").toLowerCase()}_`;
  const a = await postgresStorage({ url: POSTGRES_URL, tablePrefix });
  open.push(a);
  const b = await postgresStorage({ url: POSTGRES_URL, tablePrefix });
  open.push(b);
  return { a, b, room: uniqueName("room") };
}

describe("commit announcements on PostgreSQL", () => {
  it("another process gets a commit's entries in pages; its own commits it is told are its own", async () => {
    const { a, b, room } = await twoProcesses();
    const onA = listen(a, room);
    const onB = listen(b, room);
    // 100 entries of ~400 bytes: several pages.
    const changes = Array.from({ length: 100 }, (_, i) => write(i, "x".repeat(300)));
    const outcomes = await a.commit(room, changes, decide);
    await onB.until((h) => h.head >= 100 && !h.byThisProcess, "B to hear 100");
    const withEntries = onB.heard.find((h) => h.entries);
    expect(withEntries?.entries).toEqual(outcomes.map((o) => o.entry));
    expect(withEntries?.head).toBe(100);
    // A hears its own commit as its own (it broadcasts from the commit's result), with no pages.
    await onA.until((h) => h.head === 100, "A to hear its own commit");
    expect(onA.heard.every((h) => h.byThisProcess && !h.entries)).toBe(true);
  }, 60_000);

  it("a commit too large for notifications announces its head alone", async () => {
    const { a, b, room } = await twoProcesses();
    const onB = listen(b, room);
    await a.commit(room, [write(1, "y".repeat(10_000))], decide);
    await onB.until((h) => h.head >= 1 && !h.byThisProcess, "B to hear 1");
    expect(onB.heard.filter((h) => h.entries)).toEqual([]);
    expect((await b.entriesAfter(room, 0)).map((e) => e.messageId)).toEqual(["m1"]);
  }, 60_000);
});
