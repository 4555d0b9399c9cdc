import { computed, type ReadonlySignal } from "@preact/signals-core";

/**
 * What every live result is: a `ReadonlySignal` over a `computed` of its `_read()`, whose
 * throwing listeners go to the store's `onError` (a write never fails because of a reader), and
 * which is told when its first subscriber comes and its last goes (a live query keeps its index
 * only while watched).
 *
 * @internal The base of LiveQuery, LiveGroups, LiveAggregates and LiveValue.
 */
export abstract class LiveSignal<V> implements ReadonlySignal<V> {
  readonly #computed: ReadonlySignal<V>;
  readonly #reportError: (error: unknown) => void;

  /** `reportError` gets what a listener threw (the store's `onError`). */
  constructor(reportError: (error: unknown) => void) {
    this.#reportError = reportError;
    // Arrows, not bound methods: a subclass's fields exist once `computed` first runs (lazily).
    this.#computed = computed(() => this._read(), {
      watched: () => this._watched(),
      unwatched: () => this._unwatched(),
    });
  }

  /** @internal The value, computed again when what it read changed. */
  protected abstract _read(): V;
  /** @internal The first subscriber came. */
  protected abstract _watched(): void;
  /** @internal The last subscriber left. */
  protected abstract _unwatched(): void;

  get value(): V {
    return this.#computed.value;
  }

  peek(): V {
    return this.#computed.peek();
  }

  /**
   * Calls `listener` now and after every change of the value; returns the unsubscribe. A
   * throwing listener goes to the store's `onError`.
   *
   * @example const stop = store.comment.live.limit(10).subscribe((rows) => render(rows));
   */
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

  toJSON(): V {
    return this.value;
  }

  get brand(): ReadonlySignal["brand"] {
    return this.#computed.brand;
  }
}
