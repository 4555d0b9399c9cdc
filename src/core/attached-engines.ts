import type { LiveQueryEngine } from "./live-source.js";

/**
 * The engines (live queries, groupings, aggregations, joins) a source feeds, and the walk that
 * hands each of them a write.
 *
 * The walk goes over an array rebuilt on the first write after an attach or detach: indexed, it
 * is cheaper than a Set's iterator until V8 has compiled it (a UI's first few thousand writes).
 * It is also the set of engines as the write began: one that a listener subscribes during the
 * write builds its state from the source as it is now, so it must not get that write again (with
 * a Set it did, and held the row twice); one unsubscribed during the write is skipped.
 */
export class AttachedEngines<T> {
  readonly #engines = new Set<LiveQueryEngine<T>>();
  #list: readonly LiveQueryEngine<T>[] | undefined = [];
  readonly #reportError: (error: unknown) => void;

  constructor(reportError: (error: unknown) => void) {
    this.#reportError = reportError;
  }

  get size(): number {
    return this.#engines.size;
  }

  add(engine: LiveQueryEngine<T>): void {
    this.#engines.add(engine);
    this.#list = undefined;
  }

  delete(engine: LiveQueryEngine<T>): void {
    this.#engines.delete(engine);
    this.#list = undefined;
  }

  /** Hands one write to every engine; one that throws is reported and the others still run. */
  apply(previous: T | undefined, next: T | undefined): void {
    const list = (this.#list ??= [...this.#engines]);
    for (let i = 0; i < list.length; i++) {
      const engine = list[i]!;
      if (this.#list !== list && !this.#engines.has(engine)) continue;
      try {
        engine._apply(previous, next);
      } catch (error) {
        // A throwing predicate or key must not stop the write or the other queries.
        this.#reportError(error);
      }
    }
  }
}
