import type { SyncClock } from "../../../src/sync/index.js";

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** Virtual time: timers fire only when the simulation says so, in (time, creation) order. */
export class VirtualClock implements SyncClock {
  #now = 1_000_000;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  now = (): number => this.#now;

  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), fn });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    if (typeof handle === "number") this.#timers.delete(handle);
  };

  get pending(): number {
    return this.#timers.size;
  }

  /** Advances to the earliest timer and runs it; false when none is set. */
  fireNext(): boolean {
    let next: Timer | undefined;
    for (const timer of this.#timers.values())
      if (!next || timer.at < next.at || (timer.at === next.at && timer.id < next.id)) next = timer;
    if (!next) return false;
    this.#timers.delete(next.id);
    this.#now = Math.max(this.#now, next.at);
    next.fn();
    return true;
  }

  advance(ms: number): void {
    this.#now += ms;
  }
}
