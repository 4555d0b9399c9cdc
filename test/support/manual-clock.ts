import type { Clock } from "../../src/internal/clock.js";

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A clock whose time moves only when the test says so: timers run in (time, creation) order
 * during `advance()` or `next()`. `random()` returns `randomValue` (0.5 unless set).
 *
 * @example
 * const clock = new ManualClock();
 * const engine = new MemoryFlushEngine({ flushTarget, clock, debounceMs: 100 });
 * engine.scheduleFlush("c1", comment);
 * clock.advance(100); // the debounce fires now, not 100 real milliseconds later
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();
  randomValue = 0.5;

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  now = (): number => this.#now;

  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), fn });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    if (typeof handle === "number") this.#timers.delete(handle);
  };

  random = (): number => this.randomValue;

  /** How many timers are set. */
  get pending(): number {
    return this.#timers.size;
  }

  /** When the earliest timer is due, undefined if none is set. */
  get nextAt(): number | undefined {
    return this.#earliest()?.at;
  }

  /** Moves time on by `ms`, running every timer that falls due (also those set meanwhile). */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (let timer = this.#earliest(); timer && timer.at <= until; timer = this.#earliest()) {
      this.#timers.delete(timer.id);
      this.#now = Math.max(this.#now, timer.at);
      timer.fn();
    }
    this.#now = until;
  }

  /** Moves time to the earliest timer and runs it; false when none is set. */
  next(): boolean {
    const timer = this.#earliest();
    if (!timer) return false;
    this.#timers.delete(timer.id);
    this.#now = Math.max(this.#now, timer.at);
    timer.fn();
    return true;
  }

  #earliest(): Timer | undefined {
    let earliest: Timer | undefined;
    for (const timer of this.#timers.values())
      if (
        !earliest ||
        timer.at < earliest.at ||
        (timer.at === earliest.at && timer.id < earliest.id)
      )
        earliest = timer;
    return earliest;
  }
}

/** One turn of the event loop: settled promises and I/O run; no time passes on any clock. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Lets promises and I/O settle, then runs the clock's earliest timer, and again, until `done()`
 * holds: a timer runs only once what it could race with has settled. Throws after `maxTurns`.
 *
 * @example await runUntil(clock, () => errors.length > 0);
 */
export async function runUntil(
  clock: ManualClock,
  done: () => boolean,
  maxTurns = 10_000,
): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    await turn();
    if (done()) return;
    clock.next(); // with no timer set, only another turn for I/O (a database) to finish
  }
  throw new Error(`Not done after ${maxTurns} turns (${clock.pending} timers set)`);
}

/** Resolves with `promise`'s value, running the clock's timers (see `runUntil`) until it settles. */
export async function settleWith<T>(clock: ManualClock, promise: Promise<T>): Promise<T> {
  let settled = false;
  const observed = promise.finally(() => {
    settled = true;
  });
  observed.catch(() => {});
  await runUntil(clock, () => settled);
  return observed;
}
