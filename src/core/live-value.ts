import { LiveSignal } from "./live-signal.js";

/**
 * A value derived from live queries (a first row, an aggregate): a `ReadonlySignal` whose
 * subscribers run only when the value changed, and whose throwing listeners go to the store's
 * `onError` as a live query's do.
 *
 * @example
 * const newest = store.comment.live.orderBy("updatedAt", "desc").first();
 * const stop = newest.subscribe((c) => console.log(c?.id));
 */
export class LiveValue<V> extends LiveSignal<V> {
  readonly #compute: () => V;
  readonly #name: string;
  readonly #lifecycle: { watched(): void; unwatched(): void } | undefined;

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
    super(reportError);
    this.#compute = compute;
    this.#name = name;
    this.#lifecycle = lifecycle;
  }

  protected _read(): V {
    return this.#compute();
  }

  protected _attach(): void {
    this.#lifecycle?.watched();
  }

  protected _detach(): void {
    this.#lifecycle?.unwatched();
  }

  override toString(): string {
    return this.#name;
  }
}
