import * as fs from "node:fs";
import { mkdir } from "node:fs/promises";
import type { PGlite as PGliteInstance } from "@electric-sql/pglite";
import { lockDataDir } from "../database/dir-lock.js";
import { type SqlQuery, type SqlStorageOptions, sqlStorage } from "./sql-storage.js";
import type { SyncStorage } from "./storage.js";

/** Options of `pgliteStorage`. */
export interface PgliteStorageOptions extends SqlStorageOptions {
  /**
   * Where PGlite keeps its files.
   * @default in memory (nothing survives the process)
   */
  dataDir?: string;
}

/**
 * Embedded PostgreSQL (PGlite) storage: nothing to install; durable in `dataDir`. One process
 * only (a second one on the same `dataDir` is refused: see `lockDataDir`): to run several
 * servers on one database, use `postgresStorage`.
 *
 * @example const storage = await pgliteStorage({ dataDir: "./.data/server" });
 */
export async function pgliteStorage(options: PgliteStorageOptions = {}): Promise<SyncStorage> {
  // Loaded lazily so that importing kalphite/server does not load PGlite for PostgreSQL users.
  const { PGlite } = await import("@electric-sql/pglite");
  // PGlite creates the data directory but not its parents; a fresh clone has no .data/ yet.
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const lock = options.dataDir ? lockDataDir(options.dataDir, fs) : undefined;
  let db: PGliteInstance;
  try {
    db = options.dataDir ? await PGlite.create(options.dataDir) : await PGlite.create();
  } catch (error) {
    lock?.release();
    throw error;
  }
  const query: SqlQuery = async (sql, params) => {
    const result = await db.query(sql, params);
    return { rows: result.rows as never[] };
  };
  const close = async () => {
    try {
      await db.close();
    } finally {
      lock?.release();
    }
  };
  try {
    return await sqlStorage(
      {
        query,
        transaction: (fn) =>
          db.transaction(async (tx) =>
            fn(async (sql, params) => {
              const result = await tx.query(sql, params);
              return { rows: result.rows as never[] };
            }),
          ),
        close,
      },
      options,
    );
  } catch (error) {
    // Setting up the tables failed: nothing keeps the database, so nothing keeps the directory.
    await close();
    throw error;
  }
}
