/** Options of `electTabLeader()`. */
export interface TabElectionOptions {
  /** The database's name: one leader per name and origin. */
  name: string;
  /**
   * Stops waiting (the promise rejects with the signal's reason), or gives the leadership up
   * once held.
   * @default undefined (wait for as long as the page lives)
   */
  signal?: AbortSignal;
}

/** The leadership of a database, from `electTabLeader()`. */
export interface TabLeadership {
  /** Lets the next tab lead; idempotent. The browser also lets go when the page or worker goes away. */
  release(): void;
}

/** The part of the Web Locks API (`navigator.locks`) the election uses. */
interface LockManagerLike {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: (lock: unknown) => Promise<void>,
  ): Promise<unknown>;
}

/** The Web Lock a database's leader holds. */
export function tabLeaderLockName(name: string): string {
  return `kalphite-leader:${name}`;
}

/**
 * Waits until this tab (or worker) is the leader of database `name` among the tabs of its
 * origin: an exclusive Web Lock, granted to one holder at a time in request order and let go by
 * the browser when its holder's page or worker goes away, so the next tab in line takes over.
 * The leader owns the database and the server connection; the others mirror it (`mirrorTabs`).
 * Where `navigator.locks` does not exist (an insecure origin), every tab is its own leader.
 *
 * @example
 * const leadership = await electTabLeader({ name: "idb://review" });
 * // this tab now opens the database and serves the others (serveTabs)
 */
export function electTabLeader(options: TabElectionOptions): Promise<TabLeadership> {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  if (typeof locks?.request !== "function") return Promise.resolve({ release() {} });
  return new Promise<TabLeadership>((resolve, reject) => {
    let release!: () => void;
    const held = new Promise<void>((done) => {
      release = done;
    });
    options.signal?.addEventListener("abort", () => release(), { once: true });
    locks
      .request(
        tabLeaderLockName(options.name),
        options.signal ? { signal: options.signal } : {},
        () => {
          resolve({ release: () => release() });
          return held;
        },
      )
      .catch(reject);
  });
}
