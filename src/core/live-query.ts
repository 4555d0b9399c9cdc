import { computed, type ReadonlySignal, type Signal, signal } from "@preact/signals-core";
import { toKeyFunction } from "./compare.js";
import { KalphiteUsageError } from "./errors.js";
import { LiveGroups } from "./live-groups.js";
import { SortedIndex } from "./sorted-index.js";
import { sortedMatches } from "./sorted-matches.js";
import type { Direction, Entity, KeySelector } from "./types.js";

/**
 * One change to a live query's full result (before `limit`), for subscribers that want a diff
 * rather than the new array. `oldIndex`/`newIndex` are positions in the full sorted result, -1 when
 * the entity was not / is no longer in it.
 */
export interface LiveQueryChange<T> {
  entity: T | undefined;
  previous: T | undefined;
  oldIndex: number;
  newIndex: number;
}

/** What a live query reads from its collection. */
export interface LiveSource<T extends Entity> {
  readonly entityType: string;
  readonly values: ReadonlyMap<string, T>;
  readonly version: ReadonlySignal<number>;
  attach(query: LiveQueryEngine<T>): void;
  detach(query: LiveQueryEngine<T>): void;
  reportError(error: unknown): void;
}

/** What a collection calls on every write; implemented by LiveQuery. */
export interface LiveQueryEngine<T> {
  /** @internal */
  _apply(previous: T | undefined, next: T | undefined): void;
}

interface Spec<T> {
  predicates: readonly ((entity: T) => boolean)[];
  key: ((entity: T) => unknown) | undefined;
  direction: Direction;
  limit: number;
}

const noKey = () => undefined;
const matchAll = () => true;

/**
 * A query over one collection that stays up to date: a `ReadonlySignal<T[]>`.
 *
 * While something subscribes (an effect, a component, `subscribe`, `subscribeChanges`), the query
 * keeps its result in a sorted index and each write costs O(log n); subscribers are notified only
 * when the visible result changed. Read without a subscriber, it recomputes on demand like a
 * `computed`. Without `orderBy`, rows are ordered by id; ties in any order are broken by id.
 *
 * @example
 * const open = store.comment.live
 *   .where((c) => c.data.status === "open")
 *   .orderBy((c) => c.updatedAt, "desc")
 *   .limit(50);
 * const stop = open.subscribe((rows) => render(rows));
 */
export class LiveQuery<T extends Entity> implements ReadonlySignal<T[]>, LiveQueryEngine<T> {
  readonly #source: LiveSource<T>;
  readonly #spec: Spec<T>;
  readonly #computed: ReadonlySignal<T[]>;
  readonly #predicate: (entity: T) => boolean;
  readonly #key: (entity: T) => unknown;
  readonly #tick: Signal<number> = signal(0);
  /** The tick's value, counted here so that bumping it never reads (and subscribes to) it. */
  #ticks = 0;
  readonly #changeListeners = new Set<(change: LiveQueryChange<T>) => void>();
  #index: SortedIndex<T> | undefined;
  #lastRows: T[] | undefined;
  #refs = 0;

  /** @internal */
  constructor(source: LiveSource<T>, spec: Spec<T>) {
    this.#source = source;
    this.#spec = spec;
    const predicates = spec.predicates;
    this.#predicate =
      predicates.length === 0
        ? matchAll
        : predicates.length === 1
          ? predicates[0]!
          : (entity) => {
              for (const p of predicates) if (!p(entity)) return false;
              return true;
            };
    this.#key = spec.key ?? noKey;
    this.#computed = computed(() => this.#read(), {
      watched: () => this.#retain(),
      unwatched: () => this.#release(),
    });
  }

  /** A query that also requires `predicate`. */
  where(predicate: (entity: T) => boolean): LiveQuery<T> {
    if (typeof predicate !== "function") {
      throw new KalphiteUsageError("live.where(predicate) needs a function.");
    }
    return this.#with({ predicates: [...this.#spec.predicates, predicate] });
  }

  /** Same as `where`, as in the array method. */
  filter(predicate: (entity: T) => boolean): LiveQuery<T> {
    return this.where(predicate);
  }

  /** A query ordered by `key` (a function or a dotted path), then by id. */
  orderBy(key: KeySelector<T>, direction: Direction = "asc"): LiveQuery<T> {
    if (typeof key !== "function" && typeof key !== "string") {
      throw new KalphiteUsageError("live.orderBy(key) needs a function or a dotted path.");
    }
    if (direction !== "asc" && direction !== "desc") {
      throw new KalphiteUsageError(
        `orderBy direction must be "asc" or "desc", not ${String(direction)}.`,
      );
    }
    return this.#with({ key: toKeyFunction(key), direction });
  }

  /** A query that shows only the first `count` rows. */
  limit(count: number): LiveQuery<T> {
    if (!Number.isInteger(count) || count < 0) {
      throw new KalphiteUsageError(
        `limit(count) needs a non-negative integer, not ${String(count)}.`,
      );
    }
    return this.#with({ limit: count });
  }

  /**
   * This query's rows grouped by `key` (a function or a dotted path), kept up to date: a
   * `ReadonlySignal` of a record from group to rows, each group in this query's order. Like
   * `Object.groupBy`, group values become string keys (symbols stay) and the record has no
   * prototype.
   *
   * @example store.comment.live.orderBy("updatedAt", "desc").groupBy("data.status").value.open
   */
  groupBy<K extends PropertyKey>(key: ((entity: T) => K) | KeySelector<T>): LiveGroups<T, K> {
    if (typeof key !== "function" && typeof key !== "string") {
      throw new KalphiteUsageError("live.groupBy(key) needs a function or a dotted path.");
    }
    if (this.#spec.limit !== Number.POSITIVE_INFINITY) {
      throw new KalphiteUsageError(
        "groupBy() after limit() is ambiguous (the first rows, grouped? or each group limited?): group the query without a limit, then slice each group.",
      );
    }
    return new LiveGroups<T, K>(this.#source, {
      predicate: this.#predicate,
      key: this.#key,
      descending: this.#spec.direction === "desc",
      group: toKeyFunction(key as KeySelector<T>),
    });
  }

  get value(): T[] {
    return this.#computed.value;
  }

  peek(): T[] {
    return this.#computed.peek();
  }

  /**
   * Calls `listener` now and after every change of the result; returns the unsubscribe.
   * A throwing listener goes to the store's `onError`: a write never fails because of a reader.
   *
   * @example const stop = store.comment.live.limit(10).subscribe((rows) => render(rows));
   */
  subscribe(listener: (rows: T[]) => void): () => void {
    return this.#computed.subscribe((rows) => {
      try {
        listener(rows);
      } catch (error) {
        this.#source.reportError(error);
      }
    });
  }

  /**
   * Calls `listener` with each change to the full result (before `limit`) as it happens, without
   * building the result array. Returns the unsubscribe.
   */
  subscribeChanges(listener: (change: LiveQueryChange<T>) => void): () => void {
    this.#changeListeners.add(listener);
    this.#retain();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.#changeListeners.delete(listener);
      this.#release();
    };
  }

  valueOf(): T[] {
    return this.value;
  }

  toString(): string {
    return `LiveQuery(${this.#source.entityType})`;
  }

  toJSON(): T[] {
    return this.value;
  }

  get brand(): ReadonlySignal["brand"] {
    return this.#computed.brand;
  }

  /** @internal Called by the collection on every write while this query is subscribed. */
  _apply(previous: T | undefined, next: T | undefined): void {
    const index = this.#index!;
    const predicate = this.#predicate;
    const key = this.#key;
    const wantsPositions = this.#changeListeners.size > 0;
    const cap = wantsPositions ? Number.POSITIVE_INFINITY : this.#spec.limit;
    let oldIndex = -1;
    let newIndex = -1;
    const wasIn = previous !== undefined && predicate(previous);
    const isIn = next !== undefined && predicate(next);
    if (wasIn && isIn) {
      // An update that stays in the result: replace in place when its sort key is unchanged.
      const oldKey = key(previous);
      const newKey = key(next);
      // Only an unchanged key is tried in place; a changed one almost always moves.
      const at =
        index.compare(oldKey, "", newKey, "") === 0 ? index.replace(oldKey, newKey, next, cap) : -2;
      if (at === -2) {
        oldIndex = index.remove(oldKey, previous.id, cap);
        newIndex = index.insert(newKey, next, cap);
      } else if (at === -1) {
        newIndex = index.insert(newKey, next, cap);
      } else {
        oldIndex = newIndex = at;
      }
    } else if (wasIn) {
      oldIndex = index.remove(key(previous), previous.id, cap);
    } else if (isIn) {
      newIndex = index.insert(key(next), next, cap);
    }
    if (oldIndex === -1 && newIndex === -1) return;
    const limit = this.#spec.limit;
    if ((oldIndex !== -1 && oldIndex < limit) || (newIndex !== -1 && newIndex < limit)) {
      this.#tick.value = ++this.#ticks;
    }
    if (wantsPositions) {
      const change: LiveQueryChange<T> = {
        entity: newIndex === -1 ? undefined : next,
        previous: oldIndex === -1 ? undefined : previous,
        oldIndex,
        newIndex,
      };
      for (const listener of this.#changeListeners) {
        try {
          listener(change);
        } catch (error) {
          this.#source.reportError(error);
        }
      }
    }
  }

  #with(patch: Partial<Spec<T>>): LiveQuery<T> {
    return new LiveQuery(this.#source, { ...this.#spec, ...patch });
  }

  #read(): T[] {
    // The tick changes when the visible result changed, and when the query switches between
    // subscribed (index) and unsubscribed (recompute) mode.
    this.#tick.value;
    let rows: T[];
    if (this.#index) rows = this.#index.toArray(this.#spec.limit);
    else {
      // Nobody subscribes: behave like a computed over the collection.
      this.#source.version.value;
      rows = this.#recompute();
    }
    // Hand back the previous array when nothing visible changed (a batch that added and removed
    // a row, a switch between modes), so that no subscriber runs for an unchanged result. The
    // comparison costs no more than the copy just made.
    const last = this.#lastRows;
    if (last !== undefined && sameRows(last, rows)) return last;
    this.#lastRows = rows;
    return rows;
  }

  #recompute(): T[] {
    const { rows } = sortedMatches(
      this.#source.values,
      this.#predicate,
      this.#key,
      this.#spec.direction === "desc",
    );
    return rows.length > this.#spec.limit ? rows.slice(0, this.#spec.limit) : rows;
  }

  #retain(): void {
    if (this.#refs++ > 0) return;
    const index = new SortedIndex<T>(this.#spec.direction === "desc");
    const { rows: sortedRows, keys: sortedKeys } = sortedMatches(
      this.#source.values,
      this.#predicate,
      this.#key,
      this.#spec.direction === "desc",
    );
    index.load(sortedKeys, sortedRows);
    this.#index = index;
    this.#source.attach(this);
    // A value computed before this point came from the unsubscribed path: read from the index now.
    this.#tick.value = ++this.#ticks;
  }

  #release(): void {
    if (--this.#refs > 0) return;
    this.#source.detach(this);
    this.#index = undefined;
    this.#tick.value = ++this.#ticks;
  }
}

function sameRows<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The root live query of a collection: every entity, ordered by id. */
export function liveQueryOf<T extends Entity>(source: LiveSource<T>): LiveQuery<T> {
  return new LiveQuery(source, {
    predicates: [],
    key: undefined,
    direction: "asc",
    limit: Number.POSITIVE_INFINITY,
  });
}
