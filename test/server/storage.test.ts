// pgliteStorage's own behaviour on disk; the SyncStorage contract is test/contracts/sync-storage.test.ts.
import { describe, expect, it } from "vitest";
import { pgliteStorage } from "../../src/server/index.js";

describe("pgliteStorage on disk", () => {
  it("creates a data directory whose parents do not exist yet (a fresh clone has no .data/)", async () => {
    const { mkdtempSync, existsSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const root = mkdtempSync(join(tmpdir(), "kalphite-pglite-"));
    const dataDir = join(root, "not", "yet", "there");
    const storage = await pgliteStorage({ dataDir });
    try {
      expect(existsSync(dataDir)).toBe(true);
    } finally {
      await storage.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});
