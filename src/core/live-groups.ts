import { type Signal, signal } from "@preact/signals-core";
import {
  type AggregateHelpers,
  type AggregateResult,
  type AggregateSpec,
  buildAggregates,
} from "./aggregators.js";
import { LiveAggregates } from "./live-aggregate.js";
import { LiveSignal } from "./live-signal.js";
import type { LiveQueryEngine, LiveSource } from "./live-source.js";
import { sameRows } from "./live-spec.js";
import { SortedIndex } from "./sorted-index.js";
import { sortedMatches } from "./sorted-matches.js";
import type { Row } from "./types.js";

/**
 * The rows of a live query by group; each group in the query's order. Empty groups are absent.
 * Groups are in the order of their first row when read unsubscribed, and in the order they first
 * appeared since subscribing while subscribed.
 */
export type Groups<T, K extends PropertyKey> = Partial<Record<K, T[]>>;

/** What a grouping is made of: the query's filter and order, and the group of a row. */
export interface GroupSpec<T> {
  predicate: (entity: T) => boolean;
  key: (entity: T) => unknown;
  descending: boolean;
  group: (entity: T) => unknown;
}

/**
 * A live query's rows grouped by a key, kept up to date: a `ReadonlySignal` of a record from group
 * to rows, like `Object.groupBy` (no prototype, so any key is just a group). Get it with
 * `query.groupBy(key)`.
 *
 * While something subscribes, each group is a sorted index and a write costs O(log n) in the
 * groups it leaves and enters; a group that did not change keeps the same array, so a component
 * showing one group re-renders only when that group changes. Read without a subscriber, it
 * recomputes on demand.
 *
 * @example
 * const byStatus = store.comment.live.orderBy("updatedAt", "desc").groupBy("data.status");
 * const stop = byStatus.subscribe((groups) => render(groups.open ?? [], groups.resolved ?? []));
 */
export class LiveGroups<T extends Row, K extends PropertyKey = PropertyKey>
  extends LiveSignal<Groups<T, K>>
  implements LiveQueryEngine<T>
{
  readonly #source: LiveSource<T>;
  readonly #spec: GroupSpec<T>;
  readonly #tick: Signal<number> = signal(0);
  // Counted here so that bumping the tick never reads (and subscribes to) it.
  #ticks = 0;
  /** While subscribed: each group's rows, and the arrays handed out, rebuilt only when dirty. */
  #indexes: Map<PropertyKey, SortedIndex<T>> | undefined;
  /** A write threw in the user's functions: the indexes lack it until rebuilt. */
  #stale = false;
  readonly #arrays = new Map<PropertyKey, T[]>();
  readonly #dirty = new Set<PropertyKey>();
  #last: Groups<T, K> | undefined;

  /** @internal Use `query.groupBy(key)`. */
  constructor(source: LiveSource<T>, spec: GroupSpec<T>) {
    super((error) => source.reportError(error));
    this.#source = source;
    this.#spec = spec;
  }

  /**
   * Aggregates of each group instead of its rows, kept up to date in O(1) per write for counts
   * and sums and O(log n) for min and max (no rows are sorted). Filter groups with `having`.
   *
   * @example
   * const openPerLine = store.comment.live
   *   .where((c) => c.data.status === "open")
   *   .groupBy("data.lineNumber")
   *   .aggregate(({ count }) => ({ open: count() }));
   * @example
   * const latestPerAuthor = store.comment.live
   *   .groupBy("data.author")
   *   .aggregate(({ maxBy }) => ({ latest: maxBy("updatedAt") }));
   */
  aggregate<S extends AggregateSpec<T>>(
    build: (helpers: AggregateHelpers<T>) => S,
  ): LiveAggregates<T, K, AggregateResult<S>> {
    return new LiveAggregates<T, K, AggregateResult<S>>(this.#source, {
      predicate: this.#spec.predicate,
      group: this.#spec.group,
      aggregates: buildAggregates(build),
      having: undefined,
    });
  }

  override toString(): string {
    return `LiveGroups(${this.#source.entityType})`;
  }

  /** @internal Called by the collection on every write while this grouping is subscribed. */
  _apply(previous: T | undefined, next: T | undefined): void {
    if (this.#stale) {
      // A write before this one threw in the user's functions and is missing: start again from
      // the source, which holds this write too.
      this.#use(this.#build());
      return;
    }
    const { predicate, key, group } = this.#spec;
    let wasIn: boolean;
    let isIn: boolean;
    let oldGroup: PropertyKey | undefined;
    let newGroup: PropertyKey | undefined;
    let oldKey: unknown;
    let newKey: unknown;
    try {
      wasIn = previous !== undefined && predicate(previous);
      isIn = next !== undefined && predicate(next);
      if (!wasIn && !isIn) return;
      // Everything the user's functions say is computed first, so that one throwing changes
      // nothing; the write is then missing, and the next one rebuilds.
      oldGroup = wasIn ? groupKey(group(previous!)) : undefined;
      newGroup = isIn ? groupKey(group(next!)) : undefined;
      oldKey = wasIn ? key(previous!) : undefined;
      newKey = isIn ? key(next!) : undefined;
    } catch (error) {
      this.#stale = true;
      throw error;
    }
    const indexes = this.#indexes!;
    // A cap of 0: positions are not needed, so none is counted.
    if (wasIn && isIn && oldGroup === newGroup) {
      indexes.get(oldGroup!)!.update(oldKey, newKey, next!, 0);
    } else {
      if (wasIn) {
        const index = indexes.get(oldGroup!)!;
        index.remove(oldKey, previous!.id, 0);
        if (index.size === 0) indexes.delete(oldGroup!);
      }
      if (isIn) {
        let index = indexes.get(newGroup!);
        if (index === undefined) {
          index = new SortedIndex<T>(this.#spec.descending);
          indexes.set(newGroup!, index);
        }
        index.insert(newKey, next!, 0);
      }
    }
    if (wasIn) this.#dirty.add(oldGroup!);
    if (isIn) this.#dirty.add(newGroup!);
    this.#tick.value = ++this.#ticks;
  }

  protected _read(): Groups<T, K> {
    this.#tick.value;
    const last = this.#last;
    let groups: Groups<T, K>;
    if (this.#indexes) {
      const indexes = this.#indexes;
      for (const name of this.#dirty) {
        const index = indexes.get(name);
        if (index === undefined) {
          this.#arrays.delete(name);
          continue;
        }
        // A group whose rows are the same (a batch that left and re-entered) keeps its array.
        const rows = index.slice(0);
        const before = last?.[name as K];
        this.#arrays.set(name, before !== undefined && sameRows(before, rows) ? before : rows);
      }
      this.#dirty.clear();
      groups = Object.create(null);
      for (const [name, rows] of this.#arrays) groups[name as K] = rows;
    } else {
      // Nobody subscribes: behave like a computed over the collection.
      this.#source.version.value;
      groups = this.#recompute(last);
    }
    if (last !== undefined && sameGroups(last, groups)) return last;
    this.#last = groups;
    return groups;
  }

  /** Every group from scratch; a group equal to the last result's keeps its array. */
  #recompute(last: Groups<T, K> | undefined): Groups<T, K> {
    const { predicate, key, descending, group } = this.#spec;
    const { rows } = sortedMatches(this.#source.values, predicate, key, descending);
    const groups: Groups<T, K> = Object.create(null);
    for (const row of rows) {
      const name = groupKey(group(row)) as K;
      const rowsOfGroup = groups[name];
      if (rowsOfGroup) rowsOfGroup.push(row);
      else groups[name] = [row];
    }
    if (last !== undefined) {
      for (const name of Reflect.ownKeys(groups) as K[]) {
        const before = last[name];
        if (before !== undefined && sameRows(before, groups[name]!)) groups[name] = before;
      }
    }
    return groups;
  }

  /** @internal A subscriber came: the first one builds the index, kept until the last leaves. */
  protected _attach(): void {
    // Attached first: a source that keeps its rows only while watched (a join) builds them once,
    // and the groups hold its rows, not those of a build thrown away.
    this.#source.attach(this);
    let indexes: Map<PropertyKey, SortedIndex<T>>;
    try {
      indexes = this.#build();
    } catch (error) {
      this.#source.detach(this);
      throw error;
    }
    this.#use(indexes);
  }

  /** Each group's index, built from the source's rows. */
  #build(): Map<PropertyKey, SortedIndex<T>> {
    const { predicate, key, descending, group } = this.#spec;
    const indexes = new Map<PropertyKey, SortedIndex<T>>();
    const { rows, keys } = sortedMatches(this.#source.values, predicate, key, descending);
    // Rows in order: each goes at the end of its group.
    for (let i = 0; i < rows.length; i++) {
      const name = groupKey(group(rows[i]!));
      let index = indexes.get(name);
      if (index === undefined) indexes.set(name, (index = new SortedIndex<T>(descending)));
      index.insert(keys[i], rows[i]!, 0);
    }
    return indexes;
  }

  #use(indexes: Map<PropertyKey, SortedIndex<T>>): void {
    for (const name of this.#indexes?.keys() ?? []) this.#dirty.add(name);
    for (const name of indexes.keys()) this.#dirty.add(name);
    this.#arrays.clear();
    this.#indexes = indexes;
    this.#stale = false;
    this.#tick.value = ++this.#ticks;
  }

  /** @internal A subscriber left: the last one drops the index. */
  protected _detach(): void {
    this.#source.detach(this);
    this.#indexes = undefined;
    this.#stale = false;
    this.#arrays.clear();
    this.#dirty.clear();
    this.#tick.value = ++this.#ticks;
  }
}

/** The record key a group value becomes, as in `Object.groupBy`: symbols stay, the rest is a string. */
function groupKey(value: unknown): PropertyKey {
  return typeof value === "symbol" ? value : String(value);
}

function sameGroups<T>(a: Groups<T, PropertyKey>, b: Groups<T, PropertyKey>): boolean {
  const names = Reflect.ownKeys(b);
  if (Reflect.ownKeys(a).length !== names.length) return false;
  for (const name of names) if (a[name] !== b[name]) return false;
  return true;
}
