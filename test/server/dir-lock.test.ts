// One process per PGlite data directory: PGlite takes no lock of its own, and two instances on
// one directory corrupt it.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { KalphitePersistenceError } from "../../src/core/index.js";
import { pgliteStorage } from "../../src/server/index.js";
import { startServerProcess, tempDir } from "./helpers.js";

const dirs: { remove(): void }[] = [];
afterAll(() => {
  for (const dir of dirs) dir.remove();
});
/** Opens a storage on `dir` and checks that it holds the directory: the lock names this process, a second storage is refused, closing frees it. */
async function expectClaimedThenFreed(dir: string): Promise<void> {
  const storage = await pgliteStorage({ dataDir: dir });
  expect(readFileSync(`${dir}.lock`, "utf8")).toBe(String(process.pid));
  await expect(pgliteStorage({ dataDir: dir })).rejects.toBeInstanceOf(KalphitePersistenceError);
  await storage.close();
  expect(existsSync(`${dir}.lock`)).toBe(false);
}

function dataDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  return join(dir.path, "server");
}

describe("a PGlite data directory", { timeout: 180_000 }, () => {
  it("is refused to a second storage while the first has it, and free again once it closes", async () => {
    const dir = dataDir();
    const first = await pgliteStorage({ dataDir: dir });
    const second = await pgliteStorage({ dataDir: dir }).catch((error: unknown) => error);
    expect(second).toBeInstanceOf(KalphitePersistenceError);
    expect((second as Error).message).toMatch(
      new RegExp(`in use by process ${process.pid} \\(this one\\)`),
    );
    expect(existsSync(`${dir}.lock`)).toBe(true);
    await first.close();
    expect(existsSync(`${dir}.lock`)).toBe(false);
    await expectClaimedThenFreed(dir);
  });

  it("is taken over from a process that is gone", async () => {
    const dir = dataDir();
    // The id of a process that has exited: its lock is stale.
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    expect(gone.stdout).toMatch(/^\d+$/);
    writeFileSync(`${dir}.lock`, gone.stdout);
    await expectClaimedThenFreed(dir);
  });

  it("is refused while a server process has it, then taken over once that process is killed", async () => {
    const dir = dataDir();
    const server = await startServerProcess(["--port", "0", "--data-dir", dir]);
    try {
      const refused = await pgliteStorage({ dataDir: dir }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(KalphitePersistenceError);
      expect((refused as Error).message).toMatch(
        new RegExp(`in use by process ${server.child.pid}[^ ]`),
      );
    } finally {
      await server.kill();
    }
    // Killed without closing: the lock file stays, naming a process that is gone.
    expect(readFileSync(`${dir}.lock`, "utf8")).toBe(String(server.child.pid));
    await expectClaimedThenFreed(dir);
  });
});
