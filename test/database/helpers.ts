import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A Blob of an empty backup: restoring it empties a database (cheaper than opening a new one). */
export function emptyBackup(schemaVersion = 0): Blob {
  return new Blob([
    JSON.stringify({
      format: "kalphite-backup",
      formatVersion: 1,
      schemaVersion,
      createdAt: 0,
      meta: {},
      entities: [],
    }),
  ]);
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
