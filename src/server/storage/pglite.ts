import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { PGlite as PGliteInstance } from "@electric-sql/pglite";
import { KalphitePersistenceError } from "../../core/index.js";
import { lockDataDir } from "../../database/dir-lock.js";
import { keepPlannerStatistics } from "./planner-statistics.js";
import { type SqlQuery, type SqlStorageOptions, sqlStorage } from "./sql.js";
import type { SyncStorage } from "./storage.js";

/** Options of `pgliteStorage`. */
export interface PgliteStorageOptions extends SqlStorageOptions {
  /**
   * Where PGlite keeps its files.
   * @default in memory (nothing survives the process)
   */
  dataDir?: string;
  /**
   * PostgreSQL settings for the embedded database. The default keeps the server's memory small:
   * PostgreSQL's own default of 128 MB of shared buffers is most of an idle server's RSS.
   * @default ["shared_buffers=16MB"]
   */
  postgresqlConf?: string[];
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
    if (options.dataDir) await initOutOfProcess(options.dataDir);
    const settings = { postgresqlconf: options.postgresqlConf ?? ["shared_buffers=16MB"] };
    db = options.dataDir
      ? await PGlite.create(options.dataDir, settings)
      : await PGlite.create(settings);
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
    const storage = await sqlStorage(
      {
        query,
        transaction: (fn) =>
          db.transaction(async (tx) =>
            fn(async (sql, params) => {
              const result = await tx.query(sql, params);
              return { rows: result.rows as never[] };
            }),
          ),
        // Each step is one call into the database, its statements parsed and run together.
        script: (first, next) =>
          db.transaction(async (tx) => {
            const results = await tx.exec(first.join(";\n"));
            const step = next(results.map((r) => ({ rows: r.rows as never[] })));
            if (step.statements.length > 0) await tx.exec(step.statements.join(";\n"));
            return step.value;
          }),
        close,
      },
      options,
    );
    // Unquoted names, as the tables were created: PostgreSQL folds them to lower case.
    const prefix = (options.tablePrefix ?? "kalphite_").toLowerCase();
    const statistics = await keepPlannerStatistics(
      db,
      ["log", "entities", "compacted"].map((table) => `${prefix}${table}`),
    );
    return {
      ...storage,
      async commit(roomId, changes, decide, commitOptions) {
        const outcomes = await storage.commit(roomId, changes, decide, commitOptions);
        // Each change writes at most a log row and an entity row.
        statistics.wrote(changes.length);
        return outcomes;
      },
      async close() {
        await statistics.settle();
        await storage.close();
      },
    };
  } catch (error) {
    // Setting up the tables failed: nothing keeps the database, so nothing keeps the directory.
    await close();
    throw error;
  }
}

/**
 * Creates a fresh data directory (initdb) in a short-lived child process. initdb runs in its own
 * WebAssembly instance whose memory (about 600 MiB) stays mapped in the process that ran it, so
 * running it here would leave the server at ~800 MiB RSS before any client connects; opening
 * an existing directory costs about 200 MiB. A directory that already holds a database is left
 * alone.
 */
async function initOutOfProcess(dataDir: string): Promise<void> {
  if (fs.existsSync(join(dataDir, "PG_VERSION"))) return;
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  } catch {
    return; // Not resolvable from here (a bundler): PGlite.create runs initdb in process.
  }
  const script = `require(${JSON.stringify(entry)}).PGlite.create(${JSON.stringify(dataDir)}).then((db) => db.close())`;
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, ["-e", script], (error, _stdout, stderr) => {
      if (error)
        reject(
          new KalphitePersistenceError(
            `Could not create the PGlite data directory ${dataDir}: ${stderr || error.message}. Check that it is writable.`,
            { cause: error },
          ),
        );
      else resolve();
    });
  });
}
