import { computed, type ReadonlySignal, type Signal, signal } from "@preact/signals-core";
import {
  type AggregateHelpers,
  type AggregateResult,
  type AggregateSpec,
  buildAggregates,
} from "./aggregators.js";
import { callEach } from "./call-each.js";
import { assertDirection, toKeyFunction } from "./compare.js";
import { KalphiteUsageError } from "./errors.js";
import { aggregateOf } from "./live-aggregate.js";
import { LiveGroups } from "./live-groups.js";
import {
  type JoinKind,
  type JoinOptions,
  type JoinRow,
  JoinSource,
  joinSpec,
} from "./live-join.js";
import { LiveSignal } from "./live-signal.js";
import type { LiveQueryChange, LiveQueryEngine, LiveSource } from "./live-source.js";
import {
  changesShown,
  keyOf,
  predicateOf,
  type QuerySpec,
  ROOT_SPEC,
  sameRows,
} from "./live-spec.js";
import { LiveValue } from "./live-value.js";
import { assertPosition, LiveWindow } from "./live-window.js";
import { SortedIndex } from "./sorted-index.js";
import { sortedMatches } from "./sorted-matches.js";
import type { Direction, Entity, KeySelector, Path, PathValue, Row } from "./types.js";

export type { LiveQueryChange, LiveQueryEngine, LiveSource } from "./live-source.js";

/** The record key a group value becomes (as in `Object.groupBy`): `undefined` becomes `"undefined"`. */
type GroupKey<V> = V extends PropertyKey
  ? V
  : V extends undefined | null | boolean
    ? `${V}`
    : PropertyKey;

/** The default name of a join's right rows: the right collection's type name. */
type TypeName<R> = R extends Entity ? R["type"] : never;

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
export class LiveQuery<T extends Row> extends LiveSignal<T[]> implements LiveQueryEngine<T> {
  readonly #source: LiveSource<T>;
  readonly #spec: QuerySpec<T>;
  readonly #total: ReadonlySignal<number>;
  /** The size of the full result while subscribed; written only when it changes. */
  readonly #size: Signal<number> = signal(0);
  /** The rows shown: [offset, offset + limit). Mutable only through a LiveWindow. */
  #offset: number;
  #limit: number;
  readonly #predicate: (entity: T) => boolean;
  readonly #key: (entity: T) => unknown;
  readonly #tick: Signal<number> = signal(0);
  /** The tick's value, counted here so that bumping it never reads (and subscribes to) it. */
  #ticks = 0;
  readonly #changeListeners = new Set<(change: LiveQueryChange<T>) => void>();
  #index: SortedIndex<T> | undefined;
  /** A write threw in the user's predicate or key: the index lacks it until rebuilt. */
  #stale = false;
  #lastRows: T[] | undefined;
  /**
   * Writes that changed the rows shown since the last read, and whether the one write (if one)
   * changed them for certain: then the read skips comparing the new rows with the last ones.
   */
  #writesSinceRead = 0;
  #certainChange = false;

  /** @internal */
  constructor(source: LiveSource<T>, spec: QuerySpec<T>) {
    super((error) => source.reportError(error));
    this.#source = source;
    this.#spec = spec;
    this.#predicate = predicateOf(spec);
    this.#key = keyOf(spec);
    this.#offset = spec.offset;
    this.#limit = spec.limit;
    this.#total = computed(() => this.#count(), {
      watched: () => this._retain(),
      unwatched: () => this._release(),
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
    const keyOf = toKeyFunction(key, "live.orderBy(key)");
    assertDirection(direction);
    return this.#with({ key: keyOf, direction });
  }

  /** A query that shows only the first `count` rows. */
  limit(count: number): LiveQuery<T> {
    assertPosition("limit(count)", count);
    return this.#with({ limit: count });
  }

  /**
   * A query that skips the first `count` rows (with `limit`, a page: `.offset(100).limit(50)`).
   * A write costs O(log n) plus the copy of the rows shown when they changed.
   */
  offset(count: number): LiveQuery<T> {
    assertPosition("offset(count)", count);
    return this.#with({ offset: count });
  }

  /**
   * A movable window of `count` rows from position `offset`, for virtualized lists: moving it
   * (`moveTo`) costs O(log n + count) and never re-sorts.
   *
   * @example
   * const visible = store.comment.live.orderBy("data.lineNumber").window(0, 50);
   * visible.moveTo(1200);
   */
  window(offset: number, count: number): LiveWindow<T> {
    assertPosition("window(offset)", offset);
    assertPosition("window(offset, count)", count);
    this.#assertWhole("window()", "call window(offset, count) on the query without them");
    return new LiveWindow(this.#with({ offset, limit: count }));
  }

  /**
   * The first row of this query (after `offset`), or undefined: a `ReadonlySignal` kept up to
   * date like the query.
   *
   * @example const newest = store.comment.live.orderBy("updatedAt", "desc").first();
   */
  first(): LiveValue<T | undefined> {
    const one = this.#with({ limit: Math.min(1, this.#limit) });
    return new LiveValue(
      () => one.value[0],
      this._reportError,
      `LiveValue(first of ${this.toString()})`,
    );
  }

  /**
   * The first row that matches `predicate` in this query's order, or undefined: `where(p).first()`.
   *
   * @example const mine = store.comment.live.findOne((c) => c.data.body.includes("TODO"));
   */
  findOne(predicate: (entity: T) => boolean): LiveValue<T | undefined> {
    return this.where(predicate).first();
  }

  /**
   * The number of rows of the full result (before `offset` and `limit`). Reactive like `value`:
   * read inside an effect, it subscribes (and keeps the sorted index).
   */
  get total(): number {
    return this.#total.value;
  }

  /**
   * This query's rows grouped by `key` (a function or a dotted path), kept up to date: a
   * `ReadonlySignal` of a record from group to rows, each group in this query's order. Like
   * `Object.groupBy`, group values become string keys (symbols stay) and the record has no
   * prototype. Unsubscribed, groups are in the order of their first row (as `Object.groupBy`
   * over the rows); subscribed, in the order groups first appeared since subscribing (a group
   * that empties and fills again comes last).
   *
   * @example store.comment.live.orderBy("updatedAt", "desc").groupBy("data.status").value.open
   */
  groupBy<V>(key: (entity: T) => V): LiveGroups<T, GroupKey<V>>;
  groupBy<P extends Path<T>>(key: P): LiveGroups<T, GroupKey<PathValue<T, P>>>;
  groupBy<K extends PropertyKey>(key: ((entity: T) => K) | KeySelector<T>): LiveGroups<T, K> {
    const group = toKeyFunction(key as KeySelector<T>, "live.groupBy(key)");
    this.#assertWhole("groupBy()", "group the query without them, then slice each group");
    return new LiveGroups<T, K>(this.#source, {
      predicate: this.#predicate,
      key: this.#key,
      descending: this.#spec.direction === "desc",
      group,
    });
  }

  /**
   * Aggregates of this query's rows (`count`, `sum`, `avg`, `min`, `max`, `minBy`, `maxBy`), kept
   * up to date in O(1) per write for counts and sums and O(log n) for min and max. `build`
   * receives the helpers, typed by the rows; per group, use `groupBy(key).aggregate(build)`.
   *
   * @example
   * const stats = store.comment.live
   *   .where((c) => c.data.status === "open")
   *   .aggregate(({ count, avg, maxBy }) => ({ open: count(), meanLine: avg("data.lineNumber"), latest: maxBy("updatedAt") }));
   * stats.value.open;
   */
  aggregate<S extends AggregateSpec<T>>(
    build: (helpers: AggregateHelpers<T>) => S,
  ): LiveValue<AggregateResult<S>> {
    this.#assertWhole("aggregate()", "aggregate the query without them");
    return aggregateOf(this.#source, this.#predicate, buildAggregates(build), this.toString());
  }

  /**
   * This query's rows joined with another collection's (or query's) by a key equality: a live
   * query of joined rows `{ id, comment, review }` that `where`, `orderBy`, `limit`, `window`,
   * `groupBy`, `aggregate` and another `join` compose with. `on` is this side's key, matched
   * against the other side's `equals` (default `"id"`: a foreign key). Inner by default;
   * `kind: "left"` keeps rows without a match (`review: undefined`).
   *
   * Kept incrementally from both sides while subscribed: a write to a review updates the joined
   * row of each of its comments, O(log n) per row affected. This query's filters apply before
   * the join; order and pages are given after it.
   *
   * @example
   * const withReview = store.comment.live
   *   .where((c) => c.data.status === "open")
   *   .join(store.review, { on: "data.reviewId", kind: "left" })
   *   .orderBy("comment.data.lineNumber")
   *   .limit(50);
   * withReview.value[0]?.review?.data.title;
   */
  join<R extends Row, A extends string = TypeName<R>, J extends JoinKind = "inner">(
    other: LiveQuery<R> | { readonly live: LiveQuery<R> },
    // Joined rows have no type name to go by: the right side of a join of joins is named by `as`.
    options: JoinOptions<T, R, A, J> & (R extends Entity ? unknown : { as: A }),
  ): LiveQuery<JoinRow<T, R, A, J>> {
    const right = other instanceof LiveQuery ? other : other?.live;
    if (!(right instanceof LiveQuery)) {
      throw new KalphiteUsageError(
        "join(other, options) needs a collection (store.review) or a live query (store.review.live.where(...)).",
      );
    }
    const parts = right._parts();
    const fix = "join first, then limit the joined rows";
    if (parts.paged) throw whole("join()", fix);
    this.#assertWhole("join()", fix);
    const spec = joinSpec(
      { source: this.#source, predicate: this.#predicate },
      { source: parts.source, predicate: parts.predicate },
      options as JoinOptions<T, R>,
    );
    return liveQueryOf(new JoinSource(spec)) as unknown as LiveQuery<JoinRow<T, R, A, J>>;
  }

  /**
   * Calls `listener` with each change to the full result (before `limit`) as it happens, without
   * building the result array. Returns the unsubscribe. A write the listener makes reaches the
   * live queries once the write being delivered has reached them all.
   */
  subscribeChanges(listener: (change: LiveQueryChange<T>) => void): () => void {
    this._retain();
    this.#changeListeners.add(listener);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.#changeListeners.delete(listener);
      this._release();
    };
  }

  override toString(): string {
    return `LiveQuery(${this.#source.entityType})`;
  }

  /** @internal Called by the collection on every write while this query is subscribed. */
  _apply(previous: T | undefined, next: T | undefined): void {
    // A write before this one threw in the user's predicate or key and is missing from the
    // index: build it again from the source, which holds this write too.
    if (this.#stale) {
      this.#build();
      return;
    }
    const predicate = this.#predicate;
    const wantsPositions = this.#changeListeners.size > 0;
    let oldIndex = -1;
    let newIndex = -1;
    try {
      const wasIn = previous !== undefined && predicate(previous);
      const isIn = next !== undefined && predicate(next);
      // Most writes neither enter nor leave a given query: nothing else to read or do.
      if (!wasIn && !isIn) return;
      const index = this.#index!;
      const key = this.#key;
      const cap = wantsPositions ? Infinity : this.#offset + this.#limit;
      // The keys are read before the index changes, so a throw leaves it as it was.
      if (wasIn && isIn) {
        // An update that stays in the result.
        newIndex = index.update(key(previous), key(next), next, cap);
        oldIndex = index.movedFrom;
      } else if (wasIn) {
        oldIndex = index.remove(key(previous), previous.id, cap);
      } else {
        newIndex = index.insert(key(next!), next!, cap);
      }
    } catch (error) {
      this.#stale = true;
      throw error;
    }
    if (oldIndex === -1 && newIndex === -1) return;
    if ((oldIndex === -1) !== (newIndex === -1)) this.#size.value = this.#index!.size;
    if (changesShown(oldIndex, newIndex, this.#offset, this.#limit)) {
      // With no offset, one row that entered, left, moved or was replaced (by a new object)
      // within the rows shown changes them; a batch of several may cancel out.
      this.#certainChange =
        ++this.#writesSinceRead === 1 && this.#offset === 0 && previous !== next;
      this.#tick.value = ++this.#ticks;
    }
    if (wantsPositions) {
      const change: LiveQueryChange<T> = {
        entity: newIndex === -1 ? undefined : next,
        previous: oldIndex === -1 ? undefined : previous,
        oldIndex,
        newIndex,
      };
      callEach(this.#changeListeners, change, this._reportError);
    }
  }

  /** @internal The rows shown, for LiveWindow. */
  _window(): { offset: number; count: number } {
    return { offset: this.#offset, count: this.#limit };
  }

  /** @internal Moves the rows shown (a LiveWindow's query only). */
  _moveWindow(offset: number, count: number): void {
    if (offset === this.#offset && count === this.#limit) return;
    this.#offset = offset;
    this.#limit = count;
    this.#writesSinceRead = 2;
    this.#tick.value = ++this.#ticks;
  }

  /** @internal What a join needs of a query it joins: its source and filter, and no order. */
  _parts(): { source: LiveSource<T>; predicate: (entity: T) => boolean; paged: boolean } {
    return {
      source: this.#source,
      predicate: this.#predicate,
      paged: this.#offset !== 0 || this.#limit !== Infinity,
    };
  }

  /** Throws when this query shows a page (an offset or a limit), not its whole result. */
  #assertWhole(what: string, fix: string): void {
    if (this.#offset !== 0 || this.#limit !== Infinity) throw whole(what, fix);
  }

  #with(patch: Partial<QuerySpec<T>>): LiveQuery<T> {
    return new LiveQuery(this.#source, {
      ...this.#spec,
      offset: this.#offset,
      limit: this.#limit,
      ...patch,
    });
  }

  #count(): number {
    this.#tick.value;
    if (this.#index) return this.#size.value;
    this.#source.version.value;
    const predicate = this.#predicate;
    let count = 0;
    for (const entity of this.#source.values.values()) if (predicate(entity)) count++;
    return count;
  }

  protected _read(): T[] {
    // The tick changes when the visible result changed, and when the query switches between
    // subscribed (index) and unsubscribed (recompute) mode.
    this.#tick.value;
    let rows: T[];
    const end = this.#offset + this.#limit;
    if (this.#index) rows = this.#index.slice(this.#offset, end);
    else {
      // Nobody subscribes: behave like a computed over the collection.
      this.#source.version.value;
      rows = this.#recompute();
    }
    // Hand back the previous array when nothing visible changed (a batch that added and removed
    // a row, a switch between modes), so that no subscriber runs for an unchanged result. The
    // comparison costs no more than the copy just made.
    const last = this.#lastRows;
    const certain = this.#index !== undefined && this.#writesSinceRead === 1 && this.#certainChange;
    this.#writesSinceRead = 0;
    if (last !== undefined && !certain && sameRows(last, rows)) return last;
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
    const end = this.#offset + this.#limit;
    return this.#offset === 0 && rows.length <= end ? rows : rows.slice(this.#offset, end);
  }

  /** @internal A subscriber came: the first one builds the index, kept until the last leaves. */
  protected _attach(): void {
    // Attached first: a source that keeps its rows only while watched (a join) builds them once.
    this.#source.attach(this);
    try {
      this.#build();
    } catch (error) {
      this.#source.detach(this);
      throw error;
    }
  }

  /** The index, built from the source's rows. */
  #build(): void {
    const index = new SortedIndex<T>(this.#spec.direction === "desc");
    const { rows, keys } = sortedMatches(
      this.#source.values,
      this.#predicate,
      this.#key,
      this.#spec.direction === "desc",
    );
    index.load(keys, rows);
    this.#index = index;
    this.#stale = false;
    this.#size.value = index.size;
    // A value computed before this point came from the unsubscribed path: read from the index now
    // (and compare, as the rows may be the same).
    this.#writesSinceRead = 2;
    this.#tick.value = ++this.#ticks;
  }

  /** @internal A subscriber left: the last one drops the index. */
  protected _detach(): void {
    this.#source.detach(this);
    this.#index = undefined;
    this.#stale = false;
    this.#tick.value = ++this.#ticks;
  }
}

/** What is ambiguous on a page of a query (after `offset` or `limit`), and how to say it instead. */
function whole(what: string, fix: string): KalphiteUsageError {
  return new KalphiteUsageError(`${what} after limit() or offset() is ambiguous: ${fix}.`);
}

/** The root live query of a collection: every entity, ordered by id. */
export function liveQueryOf<T extends Row>(source: LiveSource<T>): LiveQuery<T> {
  return new LiveQuery(source, ROOT_SPEC as QuerySpec<T>);
}
