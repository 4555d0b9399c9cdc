import type { ReadonlySignal } from "@preact/signals-core";
import { KalphiteUsageError } from "./errors.js";
import type { LiveQuery } from "./live-query.js";
import type { Row } from "./types.js";

/**
 * A movable window onto a sorted live query, for virtualized lists and pagination: a
 * `ReadonlySignal<T[]>` of the rows at positions [offset, offset + count). Get it with
 * `query.window(offset, count)`.
 *
 * The window shares its query's sorted index: `moveTo` (scrolling) costs O(log n + count) and
 * never re-sorts, and a write costs O(log n) plus the copy of the window when the window changed.
 * `total` is the size of the whole result, for the scroll height.
 *
 * @example
 * const page = store.comment.live.orderBy("data.lineNumber").window(0, 50);
 * page.subscribe((rows) => render(rows, page.total));
 * page.moveTo(5000); // scrolled: rows 5000..5049
 */
export class LiveWindow<T extends Row> implements ReadonlySignal<T[]> {
  readonly #query: LiveQuery<T>;

  /** @internal Use `query.window(offset, count)`. */
  constructor(query: LiveQuery<T>) {
    this.#query = query;
  }

  /** The position of the window's first row. */
  get offset(): number {
    return this.#query._window().offset;
  }

  /** How many rows the window shows at most. */
  get count(): number {
    return this.#query._window().count;
  }

  /** The number of rows of the whole result (all windows), reactive like `value`. */
  get total(): number {
    return this.#query.total;
  }

  /**
   * Moves the window to `offset` (and resizes it to `count`, if given). Subscribers run once
   * if the rows shown changed.
   *
   * @example window.moveTo(Math.floor(scrollTop / rowHeight))
   */
  moveTo(offset: number, count: number = this.count): void {
    assertPosition("moveTo(offset)", offset);
    assertPosition("moveTo(offset, count)", count);
    this.#query._moveWindow(offset, count);
  }

  get value(): T[] {
    return this.#query.value;
  }

  peek(): T[] {
    return this.#query.peek();
  }

  /** Calls `listener` now and after every change of the rows shown; returns the unsubscribe. */
  subscribe(listener: (rows: T[]) => void): () => void {
    return this.#query.subscribe(listener);
  }

  valueOf(): T[] {
    return this.value;
  }

  toString(): string {
    return `LiveWindow(${this.#query.toString()})`;
  }

  toJSON(): T[] {
    return this.value;
  }

  get brand(): ReadonlySignal["brand"] {
    return this.#query.brand;
  }
}

/** Throws unless `value` is a non-negative integer. */
export function assertPosition(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new KalphiteUsageError(`${what} needs a non-negative integer, not ${String(value)}.`);
  }
}
