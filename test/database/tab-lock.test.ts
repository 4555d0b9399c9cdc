/**
 * The tab lock of `idb://` databases, without a browser: a fake `navigator.locks` (the parts of
 * the Web Locks API the lock uses, with its exclusive-lock semantics) is installed on
 * globalThis, and PGlite opens `idb://` names in memory, so every test runs in Node.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FrontendDatabase, isDatabaseLocked } from "../../src/database/index.js";
import { acquireTabLock, tabLockName } from "../../src/database/tab-lock.js";
import {
  KalphiteDatabaseLockedError,
  KalphitePersistenceError,
  KalphiteUsageError,
} from "../../src/index.js";
import { comment, Entity } from "../fixtures/schema.js";

/** What PGlite was asked to do, in order: `open <name>` and `close <name>`. */
const pglite = vi.hoisted(() => ({ events: [] as string[] }));

vi.mock("@electric-sql/pglite", async (importOriginal) => {
  const real = await importOriginal<typeof import("@electric-sql/pglite")>();
  const create = async (dataDir: string, options?: object) => {
    pglite.events.push(`open ${dataDir}`);
    // IndexedDB does not exist in Node: an `idb://` database lives in memory here.
    const pg = await real.PGlite.create(
      dataDir.startsWith("idb://") ? "memory://" : dataDir,
      options,
    );
    const close = pg.close.bind(pg);
    pg.close = () => {
      pglite.events.push(`close ${dataDir}`);
      return close();
    };
    return pg;
  };
  const PGlite = new Proxy(real.PGlite, {
    get: (target, property, receiver) =>
      property === "create" ? create : Reflect.get(target, property, receiver),
  });
  return { ...real, PGlite };
});

type Callback = (lock: { name: string } | null) => Promise<void> | undefined;

/**
 * Exclusive Web Locks as the spec has them: a request waits in line (or, with `ifAvailable`, is
 * called with `null` when the lock is held), the lock is held until the callback's promise
 * settles, and aborting `signal` takes a waiting request out of line.
 */
class FakeLockManager {
  readonly requests: { name: string; ifAvailable: boolean; signal: boolean }[] = [];
  readonly #held = new Set<string>();
  readonly #waiting = new Map<string, (() => void)[]>();

  async request(
    name: string,
    options: { ifAvailable?: boolean; signal?: AbortSignal },
    callback: Callback,
  ): Promise<unknown> {
    this.requests.push({
      name,
      ifAvailable: options.ifAvailable === true,
      signal: options.signal !== undefined,
    });
    if (options.ifAvailable && options.signal) {
      throw new DOMException("ifAvailable and signal together", "NotSupportedError");
    }
    options.signal?.throwIfAborted();
    if (this.#held.has(name)) {
      if (options.ifAvailable) return callback(null);
      await this.#wait(name, options.signal);
    } else {
      this.#held.add(name);
    }
    try {
      return await callback({ name });
    } finally {
      this.#release(name);
    }
  }

  held(name: string): boolean {
    return this.#held.has(name);
  }

  waiting(name: string): number {
    return this.#waiting.get(name)?.length ?? 0;
  }

  #wait(name: string, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const line = this.#waiting.get(name) ?? [];
      this.#waiting.set(name, line);
      const grant = () => {
        signal?.removeEventListener("abort", abort);
        resolve();
      };
      const abort = () => {
        line.splice(line.indexOf(grant), 1);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", abort, { once: true });
      line.push(grant);
    });
  }

  #release(name: string): void {
    const next = this.#waiting.get(name)?.shift();
    // Handed over directly: nobody can take the lock between the release and the grant.
    if (next) next();
    else this.#held.delete(name);
  }
}

let locks: FakeLockManager;
beforeEach(() => {
  locks = new FakeLockManager();
  vi.stubGlobal("navigator", { locks });
  pglite.events.length = 0;
});
afterEach(() => {
  vi.unstubAllGlobals();
});

const NAME = "idb://review-demo-ada";
const LOCK = tabLockName(NAME);
const open = (options: { lock?: "fail" | "wait"; dbName?: string } = {}) =>
  new FrontendDatabase<Entity>({ dbName: NAME, schema: Entity, ...options });

/** Lets every pending promise callback run (the fake settles within a few microtasks). */
const settle = () => new Promise((done) => setTimeout(done, 0));

describe("acquireTabLock", () => {
  it("holds an exclusive Web Lock on an idb:// database until release()", async () => {
    const lock = await acquireTabLock(NAME, "fail");
    expect(lock).toBeDefined();
    expect(locks.held(LOCK)).toBe(true);
    expect(locks.requests).toEqual([{ name: LOCK, ifAvailable: true, signal: false }]);
    lock!.release();
    lock!.release();
    await settle();
    expect(locks.held(LOCK)).toBe(false);
  });

  it("refuses a held lock at once with a persistence error that says what to do", async () => {
    const first = await acquireTabLock(NAME, "fail");
    const refused = await acquireTabLock(NAME, "fail").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(KalphitePersistenceError);
    expect(refused).toBeInstanceOf(KalphiteDatabaseLockedError);
    expect((refused as KalphiteDatabaseLockedError).dbName).toBe(NAME);
    expect(isDatabaseLocked(refused)).toBe(true);
    expect((refused as Error).message).toMatch(/open in another tab/);
    expect((refused as Error).message).toMatch(/lock: "wait"/);
    first!.release();
  });

  it("takes no lock for memory:// or a directory, nor without navigator.locks", async () => {
    expect(await acquireTabLock("memory://", "fail")).toBeUndefined();
    expect(await acquireTabLock("./data/app", "wait")).toBeUndefined();
    expect(locks.requests).toEqual([]);
    vi.stubGlobal("navigator", {});
    expect(await acquireTabLock(NAME, "fail")).toBeUndefined();
    vi.stubGlobal("navigator", undefined);
    expect(await acquireTabLock(NAME, "fail")).toBeUndefined();
  });

  it("waits in line with lock: wait, and an abort takes it out of the line", async () => {
    const first = await acquireTabLock(NAME, "fail");
    const wait = new AbortController();
    const waiting = acquireTabLock(NAME, "wait", wait.signal).catch((error: unknown) => error);
    await settle();
    expect(locks.waiting(LOCK)).toBe(1);
    wait.abort();
    expect(await waiting).toMatchObject({ name: "AbortError" });
    expect(locks.waiting(LOCK)).toBe(0);
    first!.release();
    await settle();
    expect(locks.held(LOCK)).toBe(false);
  });

  it("rejects everything but an error a caller can tell apart", () => {
    expect(isDatabaseLocked(new KalphitePersistenceError("x"))).toBe(false);
    expect(isDatabaseLocked(undefined)).toBe(false);
    expect(isDatabaseLocked("locked")).toBe(false);
  });
});

describe("FrontendDatabase on idb://: one tab at a time", () => {
  it("a second database on the same name is refused and opens nothing; after close() it opens", async () => {
    const first = open();
    await first.init();
    await first.upsert("comment", "c1", comment("c1"));
    expect(locks.held(LOCK)).toBe(true);

    const second = open();
    const refused = await second.init().catch((error: unknown) => error);
    expect(isDatabaseLocked(refused)).toBe(true);
    expect(refused).toBeInstanceOf(KalphitePersistenceError);
    expect((refused as Error).message).toContain(NAME);
    // The refused database never reached PGlite, and other methods are refused the same way.
    expect(pglite.events).toEqual([`open ${NAME}`]);
    expect(isDatabaseLocked(await second.getById("comment", "c1").catch((e: unknown) => e))).toBe(
      true,
    );

    await first.close();
    expect(locks.held(LOCK)).toBe(false);
    // init() tries again after a failure.
    await second.init();
    expect(locks.held(LOCK)).toBe(true);
    expect(pglite.events).toEqual([`open ${NAME}`, `close ${NAME}`, `open ${NAME}`]);
    await second.close();
    expect(locks.held(LOCK)).toBe(false);
  });

  it('with lock: "wait", init() opens once the other database has closed (and written its files)', async () => {
    const first = open();
    await first.init();
    const second = open({ lock: "wait" });
    let opened = false;
    const init = second.init().then(() => {
      opened = true;
    });
    await settle();
    expect(opened).toBe(false);
    expect(locks.waiting(LOCK)).toBe(1);
    expect(locks.requests.at(-1)).toEqual({ name: LOCK, ifAvailable: false, signal: true });

    await first.close();
    await init;
    expect(pglite.events).toEqual([`open ${NAME}`, `close ${NAME}`, `open ${NAME}`]);
    expect(locks.held(LOCK)).toBe(true);
    await second.close();
    expect(locks.held(LOCK)).toBe(false);
  });

  it("close() during a lock wait stops the wait: init() rejects, nothing opens, no lock is left", async () => {
    const first = open();
    await first.init();
    const second = open({ lock: "wait" });
    const init = second.init().catch((error: unknown) => error);
    await settle();
    expect(locks.waiting(LOCK)).toBe(1);

    await second.close();
    expect(await init).toBeInstanceOf(KalphiteUsageError);
    expect((await init) as Error).toHaveProperty("message", expect.stringMatching(/closed/));
    expect(locks.waiting(LOCK)).toBe(0);
    expect(pglite.events).toEqual([`open ${NAME}`]);

    await first.close();
    expect(locks.held(LOCK)).toBe(false);
  });

  it("a database that fails to open leaves no lock held", async () => {
    const failing = new FrontendDatabase<Entity>({
      dbName: NAME,
      schema: Entity,
      migrations: [
        {
          version: 1,
          up: async () => {
            throw new Error("migration 1 is broken");
          },
          down: async () => {},
        },
      ],
    });
    await expect(failing.init()).rejects.toThrow(/migration 1 is broken/);
    expect(locks.held(LOCK)).toBe(false);
    await failing.close();

    const next = open();
    await next.init();
    await next.close();
    expect(locks.held(LOCK)).toBe(false);
  });

  it("databases on different idb:// names do not wait for each other", async () => {
    const ada = open();
    const grace = open({ dbName: "idb://review-demo-grace" });
    await Promise.all([ada.init(), grace.init()]);
    expect(locks.held(LOCK)).toBe(true);
    expect(locks.held(tabLockName("idb://review-demo-grace"))).toBe(true);
    await Promise.all([ada.close(), grace.close()]);
  });

  it("memory:// databases take no lock", async () => {
    const a = new FrontendDatabase<Entity>({ dbName: "memory://", schema: Entity });
    const b = new FrontendDatabase<Entity>({ dbName: "memory://", schema: Entity });
    await Promise.all([a.init(), b.init()]);
    expect(locks.requests).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it("close() of a database never opened releases nothing it does not hold", async () => {
    const first = open();
    await first.init();
    await open().close();
    expect(locks.held(LOCK)).toBe(true);
    await first.close();
  });

  it("refuses an unknown lock mode", () => {
    expect(() => open({ lock: "steal" as "wait" })).toThrow(/lock must be "fail" or "wait"/);
  });
});
