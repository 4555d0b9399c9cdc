import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { FrontendDatabase } from "../../src/database/index.js";
import { Entity } from "../fixtures/schema.js";

/** A Blob of an empty backup: restoring it empties a database (cheaper than opening a new one). */
export function emptyBackup(schemaVersion = 0): Blob {
  return backupBlob({ schemaVersion });
}

/** A backup Blob (format version 1) of an empty database at version 0, but for `fields`. */
export function backupBlob(fields: { schemaVersion?: number; entities?: unknown[] } = {}): Blob {
  return new Blob([
    JSON.stringify({
      format: "kalphite-backup",
      formatVersion: 1,
      schemaVersion: 0,
      createdAt: 0,
      meta: {},
      entities: [],
      ...fields,
    }),
  ]);
}

/**
 * One in-memory database of the test schema for a whole test file: opened before its first
 * test, emptied before each (by restoring an empty backup) and closed after the last.
 *
 * @example const db = sharedMemoryDatabase();
 */
export function sharedMemoryDatabase(): FrontendDatabase<Entity> {
  const db = new FrontendDatabase<Entity>({ dbName: "memory://", schema: Entity });
  beforeAll(() => db.init());
  afterAll(() => db.close());
  beforeEach(() => db.restore(emptyBackup()));
  return db;
}

/** Temp directories under os.tmpdir(), removed by `cleanup()`. */
export function tempDirs() {
  const made: string[] = [];
  return {
    make(): string {
      const dir = mkdtempSync(join(tmpdir(), "kalphite-db-"));
      made.push(dir);
      return join(dir, "data");
    },
    cleanup(): void {
      for (const dir of made) rmSync(dir, { recursive: true, force: true });
    },
  };
}
