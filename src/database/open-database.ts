// Opening a FrontendDatabase: its lock (a data directory for this process, an `idb://` database
// for this tab), PGlite, the tables, the migrations and the bytes stored.
import { PGlite } from "@electric-sql/pglite";
import { KalphiteUsageError } from "../core/index.js";
import { lockDataDir } from "./dir-lock.js";
import { storeAsJson } from "./json-columns.js";
import { currentVersion, migrate } from "./migrations.js";
import { CREATE_TABLES, queryError, RECOUNT_SIZES, SESSION_SETTINGS } from "./sql.js";
import type { StorageBudget } from "./storage-budget.js";
import { acquireTabLock, type TabLock, type TabLockMode } from "./tab-lock.js";
import type { Migration } from "./types.js";

/**
 * PostgreSQL's defaults, with 16 MB of shared buffers instead of the 128 MB of the data
 * directory's postgresql.conf: PGlite zeroes its shared memory on every open, which took 150–300
 * ms of a 100,000-entity reload (an open with 16 MB takes 80–130 ms on the same machine), and a
 * client's reads are scans the file system's cache serves as fast (a full scan of 100,000
 * entities took the same 130–200 ms with either).
 */
const START_PARAMS = [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"];

export interface OpenOptions {
  dbName: string;
  lockMode: TabLockMode;
  /** Stops a `lock: "wait"` still waiting (the database was closed meanwhile). */
  signal: AbortSignal;
  /** The migrations to run (sorted), or undefined when migrations are off. */
  migrations: readonly Migration[] | undefined;
  /** Whether `close()` was called meanwhile: then nothing stays open. */
  closed(): boolean;
  budget: StorageBudget;
}

export function closedError(): KalphiteUsageError {
  return new KalphiteUsageError(
    "The database is closed: create a new FrontendDatabase to open it again.",
  );
}

/** Locks, opens and prepares the database; on any failure nothing stays open or locked. */
export async function openDatabase(
  options: OpenOptions,
): Promise<{ pg: PGlite; lock: TabLock | undefined }> {
  let lock: TabLock | undefined;
  try {
    // A directory in Node is claimed by this process (see lockDataDir); `lock: "wait"` applies
    // to browser tabs only.
    const dir = directoryOf(options.dbName);
    lock =
      dir === undefined
        ? await acquireTabLock(options.dbName, options.lockMode, options.signal)
        : lockDataDir(dir);
  } catch (error) {
    if (options.closed()) throw closedError();
    throw error;
  }
  try {
    return { pg: await openLocked(options), lock };
  } catch (error) {
    lock?.release();
    throw error;
  }
}

async function openLocked({ dbName, migrations, closed, budget }: OpenOptions): Promise<PGlite> {
  // close() during a lock wait that was granted anyway: open nothing.
  if (closed()) throw closedError();
  let pg: PGlite;
  try {
    pg = await PGlite.create(dbName, { startParams: START_PARAMS });
  } catch (error) {
    throw queryError(`Opening the database "${dbName}"`, error);
  }
  try {
    await pg.exec(SESSION_SETTINGS);
    await pg.exec(CREATE_TABLES);
    // A database written before stores its entities as jsonb: converted once (json-columns.ts).
    if (await storeAsJson(pg)) await pg.exec(RECOUNT_SIZES);
    const version = await currentVersion(pg);
    if (migrations) {
      const known = migrations.at(-1)?.version ?? 0;
      if (version > known) {
        throw new KalphiteUsageError(
          `The database "${dbName}" is at schema version ${version}, newer than the highest migration given (${known}). Open it with the app version that wrote it, or pass migrations up to ${version} and call db.migrateTo(${known}).`,
        );
      }
      await migrate(pg, migrations as Migration[], known);
    }
    await budget.count(pg);
  } catch (error) {
    await pg.close().catch(() => {});
    throw queryError(`Initializing the database "${dbName}"`, error);
  }
  return pg;
}

/** The directory of a database kept on a file system (Node), or undefined for memory and IndexedDB. */
function directoryOf(dbName: string): string | undefined {
  if (dbName.startsWith("memory://") || dbName.startsWith("idb://")) return undefined;
  if (dbName.startsWith("file://")) return dbName.slice("file://".length);
  return dbName.includes("://") ? undefined : dbName;
}
