// A client process writing through persist() and a NetworkSyncEngine is killed (SIGKILL) at
// random points; the reloaded database must hold exactly the state before or after the write in
// progress: the entity rows and the outbox agree, and nothing durable is lost.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cleanupAfterEach, tempDir } from "../server/helpers.js";
import { persistedClient } from "../support/persisted-client.js";

const WRITER = fileURLToPath(new URL("./fixtures/crash-writer.ts", import.meta.url));
const cleanups = cleanupAfterEach();

/** Runs the writer from `start` until `lines` writes are durable, then kills it `delayMs` later. */
function runAndKill(dir: string, start: number, lines: number, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      ["--import", "tsx", WRITER, dir, String(start)],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let last = start - 1;
    let buffer = "";
    let stderr = "";
    let killing = false;
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    child.stdout!.on("data", (chunk) => {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const line of parts) {
        if (line.startsWith("durable ")) last = Number(line.slice(8));
        if (!killing && last - start + 1 >= lines) {
          killing = true;
          setTimeout(() => child.kill("SIGKILL"), delayMs);
        }
      }
    });
    child.on("exit", (_code, signal) => {
      if (signal === "SIGKILL") resolve(last);
      else reject(new Error(`the writer exited by itself: ${stderr}`));
    });
  });
}

/** The store a run of writes from 0 through `through` leaves (see crash-writer.ts). */
function expected(through: number): Map<string, string> {
  const shown = new Map<string, string>();
  for (let i = 0; i <= through; i++) {
    if (i % 7 === 6) shown.delete(`c${i % 4}`);
    else shown.set(`c${i % 4}`, String(i));
  }
  return shown;
}

describe("a client killed at any point", () => {
  it("reloads to the state before or after the write in progress, outbox included", async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    let next = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 6 }),
        async (lines, delayMs) => {
          const durable = await runAndKill(dir.path, next, lines, delayMs);
          const client = await persistedClient(cleanups, { dir: dir.path });
          const { store, engine } = client;
          try {
            await engine.whenLoaded();
            const outbox = engine.getOutbox();
            // Every write is in the outbox: its length says how many writes were committed.
            const committed = outbox.length - 1;
            expect([durable, durable + 1]).toContain(committed);
            const shown = new Map(store.comment.map((c) => [c.id, c.data.body]));
            expect(shown).toEqual(expected(committed));
            // The outbox says the same as the rows: its last entry per entity is what is shown.
            const last = new Map<string, string | undefined>();
            for (const entry of outbox)
              last.set(
                entry.entityId,
                (entry.entity as { data?: { body?: string } } | undefined)?.data?.body,
              );
            for (const [id, body] of last) expect(shown.get(id)).toBe(body);
            next = committed + 1;
          } finally {
            await client.close();
          }
        },
      ),
      { numRuns: 12 },
    );
  }, 600_000);
});
