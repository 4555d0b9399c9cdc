import { untracked } from "@preact/signals-core";
import type { LiveQueryEngine } from "./live-source.js";

/**
 * The walks of one store's collections. A write made while the engines take in another (by a
 * `subscribeChanges` listener) is queued, as its (engines, previous, next, write number), and
 * walked once the current walk is over, in order: walked at once, it would reach the engines
 * after the listener's before they had the write that caused it (and they would hold a row
 * twice). One queue for the whole store: a join reads both of its collections, so a write to
 * one from a walk of the other must wait as well. `run` walks the queue outside any effect: a
 * predicate's reads must not become dependencies of an effect that writes.
 */
export interface EngineWalks {
  walking: boolean;
  readonly queued: unknown[];
  readonly run: () => void;
}

/**
 * The engines (live queries, groupings, aggregations, joins) a source feeds, and the walk that
 * hands each of them a write.
 *
 * The walk goes over an array rebuilt on the first write after an attach or detach: indexed, it
 * is cheaper than a Set's iterator until V8 has compiled it (a UI's first few thousand writes).
 * An engine builds its state from the source as it is when it attaches, so it must not get a
 * write made before (it would hold the row twice): each engine keeps the number of writes when
 * it attached (`_attachedAt`, Infinity once detached), and a walk skips the engines attached
 * since its write or detached during it.
 */
export class AttachedEngines<T> {
  readonly #engines = new Set<LiveQueryEngine<T>>();
  #list: readonly LiveQueryEngine<T>[] | undefined = [];
  #writes = 0;
  readonly #reportError: (error: unknown) => void;
  /** A collection's walks wait for the store's current one; a join's run within it, at once. */
  readonly #walks: EngineWalks | undefined;

  constructor(reportError: (error: unknown) => void, walks?: EngineWalks) {
    this.#reportError = reportError;
    this.#walks = walks;
  }

  get size(): number {
    return this.#engines.size;
  }

  add(engine: LiveQueryEngine<T>): void {
    engine._attachedAt = this.#writes;
    this.#engines.add(engine);
    this.#list = undefined;
  }

  delete(engine: LiveQueryEngine<T>): void {
    engine._attachedAt = Infinity;
    this.#engines.delete(engine);
    this.#list = undefined;
  }

  /**
   * Hands one write to every engine, now or after the store's current walk; one that throws is
   * reported and the others still run. Call once the source holds the write.
   */
  apply(previous: T | undefined, next: T | undefined): void {
    // No engine: nothing to queue (one attached later builds from the source, write included).
    if (this.#engines.size === 0) return;
    const write = ++this.#writes;
    const walks = this.#walks;
    // A join's engines are walked within its collection's walk.
    if (walks === undefined) this.#walk(previous, next, write);
    else {
      walks.queued.push(this, previous, next, write);
      if (!walks.walking) untracked(walks.run);
    }
  }

  /** The walks of a new store. */
  static walks(): EngineWalks {
    const walks: EngineWalks = {
      walking: false,
      queued: [],
      run: () => {
        const queued = walks.queued;
        walks.walking = true;
        try {
          for (let i = 0; i < queued.length; i += 4) {
            const engines = queued[i] as AttachedEngines<unknown>;
            engines.#walk(queued[i + 1], queued[i + 2], queued[i + 3] as number);
          }
        } finally {
          queued.length = 0;
          walks.walking = false;
        }
      },
    };
    return walks;
  }

  #walk(previous: T | undefined, next: T | undefined, write: number): void {
    const list = (this.#list ??= [...this.#engines]);
    for (let i = 0; i < list.length; i++) {
      const engine = list[i]!;
      if (engine._attachedAt! >= write) continue;
      try {
        engine._apply(previous, next);
      } catch (error) {
        // A throwing predicate or key must not stop the write or the other queries.
        this.#reportError(error);
      }
    }
  }
}
