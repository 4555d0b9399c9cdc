// One process, one FrontendDatabase per directory: PGlite takes no lock of its own, and two
// instances on one directory corrupt it.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KalphitePersistenceError } from "../../src/core/index.js";
import { FrontendDatabase } from "../../src/database/index.js";
import { comment, Entity } from "../fixtures/schema.js";

describe("a database in a directory (Node)", () => {
  it("is opened by one FrontendDatabase at a time, and free again once it closes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kalphite-dir-lock-"));
    try {
      const dbName = join(dir, "app");
      const first = new FrontendDatabase({ dbName, schema: Entity });
      await first.init();
      const second = new FrontendDatabase({ dbName, schema: Entity });
      const refused = await second.init().catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(KalphitePersistenceError);
      expect((refused as Error).message).toMatch(/in use by process \d+ \(this one\)/);
      expect(existsSync(`${dbName}.lock`)).toBe(true);
      await first.close();
      expect(existsSync(`${dbName}.lock`)).toBe(false);
      await second.init();
      await second.upsert("comment", "c1", comment("c1"));
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
