import { computed, type ReadonlySignal } from "@preact/signals-core";

/**
 * What every live result is: a `ReadonlySignal` over a `computed` of its `_read()`, whose
 * throwing listeners go to the store's `onError` (a write never fails because of a reader), and
 * which is told when its first holder comes (`_attach`) and its last goes (`_detach`): a live
 * query keeps its index only while held. Holders are the computed's subscribers and whatever
 * else calls `_retain`/`_release` (`subscribeChanges`, a query's `total`).
 *
 * @internal The base of LiveQuery, LiveGroups, LiveAggregates and LiveValue.
 */
export abstract class LiveSignal<V> implements ReadonlySignal<V> {
  readonly #computed: ReadonlySignal<V>;
  /** @internal Where what a listener threw goes (the store's `onError`). */
  protected readonly _reportError: (error: unknown) => void;
  #holders = 0;

  /** `reportError` gets what a listener threw (the store's `onError`). */
  constructor(reportError: (error: unknown) => void) {
    this._reportError = reportError;
    // Arrows, not bound methods: a subclass's fields exist once `computed` first runs (lazily).
    this.#computed = computed(() => this._read(), {
      watched: () => this._retain(),
      unwatched: () => this._release(),
    });
  }

  /** @internal The value, computed again when what it read changed. */
  protected abstract _read(): V;
  /** @internal The first holder came: build the live state. A throw leaves nothing held. */
  protected abstract _attach(): void;
  /** @internal The last holder left: drop the live state. */
  protected abstract _detach(): void;

  /** @internal One more holder; the first attaches. */
  _retain(): void {
    if (this.#holders++ > 0) return;
    try {
      this._attach();
    } catch (error) {
      this.#holders--;
      throw error;
    }
  }

  /**
   * @internal One holder fewer; the last detaches. Ignored with no holder: after a first
   * `_attach` that threw, the signals library still reports the subscriber as gone.
   */
  _release(): void {
    if (this.#holders > 0 && --this.#holders === 0) this._detach();
  }

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
        this._reportError(error);
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
