import { KalphiteDatabaseLockedError } from "../core/index.js";

/**
 * What `init()` does when another tab (or another `FrontendDatabase` in this page) has the same
 * `idb://` database open: `"fail"` rejects at once, `"wait"` waits until the other one closes.
 */
export type TabLockMode = "fail" | "wait";

/** The tab-coordination option of `FrontendDatabase`. */
export interface TabLockOptions {
  /**
   * PGlite keeps an `idb://` database in memory and writes whole files back to IndexedDB, so two
   * tabs with the same database open would overwrite each other's writes. `init()` therefore
   * takes an exclusive Web Lock on the database (held until `close()`, or until the page goes
   * away) before opening it. When another tab holds it, `"fail"` rejects `init()` with a
   * `KalphiteDatabaseLockedError` (a `KalphitePersistenceError`) and opens nothing; `"wait"`
   * waits for the lock (`close()` stops the wait). Databases other than `idb://`, and browsers
   * without `navigator.locks` (insecure origins), take no lock.
   * @default "fail"
   */
  lock?: TabLockMode;
}

/** The lock of one open database. */
export interface TabLock {
  /** Lets the next tab in; idempotent. */
  release(): void;
}

/** The part of the Web Locks API (`navigator.locks`) the lock uses. */
interface LockManagerLike {
  request(
    name: string,
    options: { ifAvailable?: boolean; signal?: AbortSignal },
    callback: (lock: unknown) => Promise<void> | undefined,
  ): Promise<unknown>;
}

/**
 * True when `error` is `init()`'s refusal to open a database another tab has open (`lock:
 * "fail"`): a `KalphiteDatabaseLockedError`. The app can then work without local persistence,
 * or ask the user to close the other tab and call `init()` again.
 *
 * @example
 * try { await db.init(); } catch (error) { if (isDatabaseLocked(error)) useMemoryOnly(); else throw error; }
 */
export function isDatabaseLocked(error: unknown): error is KalphiteDatabaseLockedError {
  return error instanceof KalphiteDatabaseLockedError;
}

function lockedError(dbName: string): KalphiteDatabaseLockedError {
  return new KalphiteDatabaseLockedError(
    `The database "${dbName}" is open in another tab (or by another FrontendDatabase in this page), so it was not opened here: two PGlite instances on one IndexedDB database overwrite each other's writes. Close the other tab (or call close() on the other database) and call init() again, pass lock: "wait" to wait until it is closed, or keep this tab in memory only.`,
    dbName,
  );
}

/** The Web Lock name of a database: one per `idb://` name and origin. */
export function tabLockName(dbName: string): string {
  return `kalphite:${dbName}`;
}

function lockManager(): LockManagerLike | undefined {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return typeof locks?.request === "function" ? locks : undefined;
}

/**
 * Takes the exclusive lock of `dbName` when it needs one (an `idb://` database, where
 * `navigator.locks` exists); resolves `undefined` when it does not. With `"fail"`, rejects with
 * the locked error when another holder has it; with `"wait"`, waits until it is free or
 * `signal` aborts (then rejects with the signal's reason).
 *
 * The lock is held by a Web Lock request whose callback returns a promise that only
 * `release()` resolves: the browser also releases it when the page goes away.
 */
export function acquireTabLock(
  dbName: string,
  mode: TabLockMode,
  signal?: AbortSignal,
): Promise<TabLock | undefined> {
  const locks = lockManager();
  if (!dbName.startsWith("idb://") || locks === undefined) return Promise.resolve(undefined);
  return new Promise<TabLock | undefined>((resolve, reject) => {
    let release!: () => void;
    const held = new Promise<void>((done) => {
      release = done;
    });
    // `ifAvailable` and `signal` cannot be combined (the request throws NotSupportedError).
    const options = mode === "fail" ? { ifAvailable: true } : signal ? { signal } : {};
    locks
      .request(tabLockName(dbName), options, (lock) => {
        if (lock === null) {
          reject(lockedError(dbName));
          return undefined;
        }
        resolve({ release: () => release() });
        return held;
      })
      // An abort of the wait (or a refused request) rejects here; once the lock was granted
      // this settles only after release(), and the promise above is already resolved.
      .catch(reject);
  });
}
