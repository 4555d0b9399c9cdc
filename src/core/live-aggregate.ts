import { type Signal, signal } from "@preact/signals-core";
import type { AggregateKind, Aggregator } from "./aggregators.js";
import { KalphiteUsageError } from "./errors.js";
import { ExactSum } from "./exact-sum.js";
import { LiveSignal } from "./live-signal.js";
import type { LiveQueryEngine, LiveSource } from "./live-source.js";
import { LiveValue } from "./live-value.js";
import { SortedIndex } from "./sorted-index.js";
import type { Row } from "./types.js";

/** What an aggregation is made of: the query's filter, the group of a row, the aggregates. */
export interface AggregateEngineSpec<T, R> {
  predicate: (row: T) => boolean;
  /** Undefined: the whole result is one group. */
  group: ((row: T) => unknown) | undefined;
  aggregates: readonly [string, Aggregator<T, unknown>][];
  having: ((result: R) => boolean) | undefined;
}

/** The aggregates of each group, by group: `Object.groupBy`-like, without a prototype. */
export type AggregateGroups<K extends PropertyKey, R> = Partial<Record<K, R>>;

/** The group's name for a single-group (whole result) aggregation. */
const WHOLE = "";

/** One group's running state: O(1) per row for count, sum, avg; a sorted index for min/max. */
class GroupState<T extends Row> {
  rows = 0;
  readonly sums: ExactSum[];
  readonly numbers: number[];
  readonly indexes: (SortedIndex<T> | undefined)[];
  /** The last result handed out, and whether a write may have changed it since. */
  result: Record<string, unknown> | undefined;
  dirty = true;

  constructor(kinds: readonly AggregateKind[]) {
    this.sums = kinds.map(() => new ExactSum());
    this.numbers = kinds.map(() => 0);
    this.indexes = kinds.map((kind) =>
      kind === "count" || kind === "sum" || kind === "avg" ? undefined : new SortedIndex<T>(false),
    );
  }

  add(row: T, values: readonly unknown[], sign: 1 | -1): void {
    this.rows += sign;
    this.dirty = true;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      const index = this.indexes[i];
      if (index !== undefined) {
        if (value === undefined || value === null) continue;
        if (sign === 1) index.insert(value, row, 0);
        else index.remove(value, row.id, 0);
      } else if (typeof value === "number" && Number.isFinite(value)) {
        this.numbers[i]! += sign;
        this.sums[i]!.add(sign * value);
      }
    }
  }

  resultOf(aggregates: readonly [string, Aggregator<T, unknown>][]): Record<string, unknown> {
    if (!this.dirty && this.result !== undefined) return this.result;
    const result: Record<string, unknown> = {};
    aggregates.forEach(([name, { kind }], i) => {
      const index = this.indexes[i];
      result[name] =
        kind === "count"
          ? this.rows
          : kind === "sum"
            ? this.sums[i]!.value
            : kind === "avg"
              ? this.numbers[i] === 0
                ? undefined
                : this.sums[i]!.value / this.numbers[i]!
              : kind === "min"
                ? index!.first()?.key
                : kind === "max"
                  ? index!.last()?.key
                  : kind === "minBy"
                    ? index!.first()?.row
                    : index!.last()?.row;
    });
    // An unchanged result keeps its object, so nobody re-renders for it.
    const previous = this.result;
    this.result =
      previous !== undefined && sameFields(previous, result) ? previous : Object.freeze(result);
    this.dirty = false;
    return this.result;
  }
}

/**
 * Aggregates (`count`, `sum`, `avg`, `min`, `max`, `minBy`, `maxBy`) of a live query's rows per
 * group, kept up to date: a `ReadonlySignal` of a record from group to its aggregates. Get it
 * with `query.groupBy(key).aggregate(build)`; filter groups with `having`; watch one group with
 * `group(key)`.
 *
 * While something subscribes, a write costs O(1) per count, sum and avg and O(log n) per min or
 * max (a sorted index per group), in the groups the row leaves and enters. A group whose
 * aggregates did not change keeps its object. Reading the whole record builds it in O(groups);
 * `group(key)` reads one group in O(1).
 *
 * @example
 * const perLine = store.comment.live
 *   .where((c) => c.data.status === "open")
 *   .groupBy("data.lineNumber")
 *   .aggregate(({ count, maxBy }) => ({ open: count(), latest: maxBy("updatedAt") }))
 *   .having((line) => line.open >= 2);
 * perLine.value[42]?.open;
 */
export class LiveAggregates<T extends Row, K extends PropertyKey, R>
  extends LiveSignal<AggregateGroups<K, R>>
  implements LiveQueryEngine<T>
{
  readonly #source: LiveSource<T>;
  readonly #spec: AggregateEngineSpec<T, R>;
  readonly #kinds: AggregateKind[];
  readonly #lifecycle = { watched: () => this._retain(), unwatched: () => this._release() };
  /** Changes on every write that touches a group, and when the mode (subscribed or not) changes. */
  readonly #tick: Signal<number> = signal(0);
  #ticks = 0;
  readonly #mode: Signal<number> = signal(0);
  // Counted here so that bumping a signal never reads (and subscribes to) it: a write may run
  // inside an effect.
  #modes = 0;
  /** One tick per group someone watches through `group(key)`. */
  readonly #groupTicks = new Map<PropertyKey, Signal<number>>();
  #states: Map<PropertyKey, GroupState<T>> | undefined;
  /** A write threw in the user's functions: the states lack it until rebuilt. */
  #stale = false;
  #last: AggregateGroups<K, R> | undefined;

  /** @internal Use `query.groupBy(key).aggregate(build)` or `query.aggregate(build)`. */
  constructor(source: LiveSource<T>, spec: AggregateEngineSpec<T, R>) {
    super((error) => source.reportError(error));
    this.#source = source;
    this.#spec = spec;
    this.#kinds = spec.aggregates.map(([, aggregate]) => aggregate.kind);
  }

  /**
   * Only the groups whose aggregates satisfy `predicate` (SQL's HAVING).
   *
   * @example perLine.having((line) => line.open > 1)
   */
  having(predicate: (result: R) => boolean): LiveAggregates<T, K, R> {
    if (typeof predicate !== "function") {
      throw new KalphiteUsageError("having(predicate) needs a function of a group's aggregates.");
    }
    const previous = this.#spec.having;
    const having = previous ? (r: R) => previous(r) && predicate(r) : predicate;
    return new LiveAggregates(this.#source, { ...this.#spec, having });
  }

  /**
   * The aggregates of one group (undefined while it has no rows or fails `having`), as a
   * signal that changes only when that group's aggregates change: O(1) per write.
   *
   * @example const line42 = perLine.group(42); line42.value?.open
   */
  group(key: K): LiveValue<R | undefined> {
    const name = groupKey(key);
    return this._value(name, undefined, `LiveValue(group ${String(name)} of ${this.toString()})`);
  }

  /** @internal One group's aggregates as a signal, `fallback` while it has none. */
  _value<F>(name: PropertyKey, fallback: F, label: string): LiveValue<R | F> {
    let last: R | F | undefined;
    // A group that emptied and filled again (a batch) has the same aggregates in a new object.
    const same = (value: R | F): R | F => {
      if (
        last !== undefined &&
        last !== value &&
        typeof last === "object" &&
        typeof value === "object" &&
        last !== null &&
        value !== null &&
        sameFields(last, value) &&
        sameFields(value, last)
      ) {
        return last;
      }
      last = value;
      return value;
    };
    return new LiveValue<R | F>(
      () => same(this.#compute(name, fallback)),
      (error) => this.#source.reportError(error),
      label,
      this.#lifecycle,
    );
  }

  /** One group's aggregates now: from its running state while subscribed, else from scratch. */
  #compute<F>(name: PropertyKey, fallback: F): R | F {
    this.#mode.value;
    const states = this.#states;
    let state: GroupState<T> | undefined;
    if (states) {
      this.#groupTick(name).value;
      state = states.get(name);
    } else {
      this.#source.version.value;
      state = this.#build(name).get(name);
    }
    if (state === undefined) return fallback;
    const result = state.resultOf(this.#spec.aggregates) as R;
    return this.#shown(result) ? result : fallback;
  }

  override toString(): string {
    return `LiveAggregates(${this.#source.entityType})`;
  }

  /** @internal Called by the source on every write while this aggregation is subscribed. */
  _apply(previous: T | undefined, next: T | undefined): void {
    if (this.#stale) {
      // A write before this one threw in the user's functions and is missing: start again from
      // the source, which holds this write too.
      this.#states = this.#build(undefined);
      this.#stale = false;
      this.#mode.value = ++this.#modes;
      return;
    }
    const { predicate, group, aggregates } = this.#spec;
    let wasIn: boolean;
    let isIn: boolean;
    let oldGroup: PropertyKey | undefined;
    let newGroup: PropertyKey | undefined;
    let oldValues: unknown[] | undefined;
    let newValues: unknown[] | undefined;
    try {
      wasIn = previous !== undefined && predicate(previous);
      isIn = next !== undefined && predicate(next);
      if (!wasIn && !isIn) return;
      // Everything the user's functions say is computed first, so that one throwing changes
      // nothing; the write is then missing, and the next one rebuilds.
      oldGroup = wasIn ? (group ? groupKey(group(previous!)) : WHOLE) : undefined;
      newGroup = isIn ? (group ? groupKey(group(next!)) : WHOLE) : undefined;
      oldValues = wasIn ? aggregates.map(([, a]) => a.value?.(previous!)) : undefined;
      newValues = isIn ? aggregates.map(([, a]) => a.value?.(next!)) : undefined;
    } catch (error) {
      this.#stale = true;
      throw error;
    }
    const states = this.#states!;
    const tick = ++this.#ticks;
    let left: GroupState<T> | undefined;
    if (wasIn) {
      left = states.get(oldGroup!)!;
      left.add(previous!, oldValues!, -1);
      this.#touch(oldGroup!, tick);
    }
    if (isIn) {
      let state = states.get(newGroup!);
      if (state === undefined) {
        state = new GroupState<T>(this.#kinds);
        states.set(newGroup!, state);
      }
      state.add(next!, newValues!, 1);
      if (newGroup !== oldGroup) this.#touch(newGroup!, tick);
    }
    // Only now: a row that stays in its group must not empty it (and lose its result) on the way.
    if (left !== undefined && left.rows === 0) states.delete(oldGroup!);
    this.#tick.value = tick;
  }

  #touch(name: PropertyKey, tick: number): void {
    const groupTick = this.#groupTicks.get(name);
    if (groupTick !== undefined) groupTick.value = tick;
  }

  #groupTick(name: PropertyKey): Signal<number> {
    let tick = this.#groupTicks.get(name);
    if (tick === undefined) {
      tick = signal(0);
      this.#groupTicks.set(name, tick);
    }
    return tick;
  }

  #shown(result: R): boolean {
    const having = this.#spec.having;
    return having === undefined || having(result);
  }

  protected _read(): AggregateGroups<K, R> {
    this.#tick.value;
    this.#mode.value;
    let states = this.#states;
    if (states === undefined) {
      this.#source.version.value;
      states = this.#build(undefined);
    }
    const last = this.#last;
    const groups: AggregateGroups<K, R> = Object.create(null);
    let same = last !== undefined;
    let count = 0;
    for (const [name, state] of states) {
      let result = state.resultOf(this.#spec.aggregates) as R;
      if (!this.#shown(result)) continue;
      const before = last?.[name as K];
      // A result equal to the last one handed out keeps its object (it may be a fresh state).
      if (
        before !== undefined &&
        before !== result &&
        sameFields(before as object, result as object)
      )
        result = before;
      if (before !== result) same = false;
      groups[name as K] = result;
      count++;
    }
    if (same && Reflect.ownKeys(last!).length === count) return last!;
    this.#last = groups;
    return groups;
  }

  /** Every group's state from scratch (only `only`'s, if given). */
  #build(only: PropertyKey | undefined): Map<PropertyKey, GroupState<T>> {
    const { predicate, group, aggregates } = this.#spec;
    const states = new Map<PropertyKey, GroupState<T>>();
    for (const row of this.#source.values.values()) {
      if (!predicate(row)) continue;
      const name = group ? groupKey(group(row)) : WHOLE;
      if (only !== undefined && name !== only) continue;
      let state = states.get(name);
      if (state === undefined) {
        state = new GroupState<T>(this.#kinds);
        states.set(name, state);
      }
      state.add(
        row,
        aggregates.map(([, a]) => a.value?.(row)),
        1,
      );
    }
    return states;
  }

  /** @internal A subscriber came: the first one builds the index, kept until the last leaves. */
  protected _attach(): void {
    // Attached first: a source that keeps its rows only while watched (a join) builds them once.
    this.#source.attach(this);
    try {
      this.#states = this.#build(undefined);
    } catch (error) {
      this.#source.detach(this);
      throw error;
    }
    this.#mode.value = ++this.#modes;
  }

  /** @internal A subscriber left: the last one drops the index. */
  protected _detach(): void {
    this.#source.detach(this);
    this.#states = undefined;
    this.#stale = false;
    this.#mode.value = ++this.#modes;
  }
}

/** The aggregates of a whole query (one group), with the aggregates of no rows when it has none. */
export function aggregateOf<T extends Row, R>(
  source: LiveSource<T>,
  predicate: (row: T) => boolean,
  aggregates: readonly [string, Aggregator<T, unknown>][],
  name: string,
): LiveValue<R> {
  const engine = new LiveAggregates<T, string, R>(source, {
    predicate,
    group: undefined,
    aggregates,
    having: undefined,
  });
  // The aggregates of no rows: 0 for count and sum, undefined for the others.
  const empty = Object.freeze(
    Object.fromEntries(
      aggregates.map(([key, { kind }]) => [
        key,
        kind === "count" || kind === "sum" ? 0 : undefined,
      ]),
    ),
  ) as R;
  return engine._value(WHOLE, empty, `LiveValue(aggregate of ${name})`) as LiveValue<R>;
}

/** The record key a group value becomes, as in `Object.groupBy`: symbols stay, the rest is a string. */
export function groupKey(value: unknown): PropertyKey {
  return typeof value === "symbol" ? value : String(value);
}

function sameFields(a: object, b: object): boolean {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const key in y) if (!Object.is(x[key], y[key])) return false;
  return true;
}
