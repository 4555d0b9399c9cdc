import { computed, type ReadonlySignal } from "@preact/signals-core";

/**
 * A value derived from live queries (a first row, an aggregate): a `ReadonlySignal` whose
 * subscribers run only when the value changed, and whose throwing listeners go to the store's
 * `onError` as a live query's do.
 *
 * @example
 * const newest = store.comment.live.orderBy("updatedAt", "desc").first();
 * const stop = newest.subscribe((c) => console.log(c?.id));
 */
export class LiveValue<V> implements ReadonlySignal<V> {
  readonly #computed: ReadonlySignal<V>;
  readonly #reportError: (error: unknown) => void;
  readonly #name: string;

  /**
   * @internal Get one from `first()`, `findOne()`, `aggregate()`. `lifecycle` is told when the
   * first subscriber comes and the last goes (an aggregate keeps its state only while watched).
   */
  constructor(
    compute: () => V,
    reportError: (error: unknown) => void,
    name: string,
    lifecycle?: { watched(): void; unwatched(): void },
  ) {
    this.#computed = computed(compute, lifecycle);
    this.#reportError = reportError;
    this.#name = name;
  }

  get value(): V {
    return this.#computed.value;
  }

  peek(): V {
    return this.#computed.peek();
  }

  /** Calls `listener` now and after every change; returns the unsubscribe. */
  subscribe(listener: (value: V) => void): () => void {
    return this.#computed.subscribe((value) => {
      try {
        listener(value);
      } catch (error) {
        this.#reportError(error);
      }
    });
  }

  valueOf(): V {
    return this.value;
  }

  toString(): string {
    return this.#name;
  }

  toJSON(): V {
    return this.value;
  }

  get brand(): ReadonlySignal["brand"] {
    return this.#computed.brand;
  }
}
