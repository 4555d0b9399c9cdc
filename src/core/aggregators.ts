import { toKeyFunction } from "./compare.js";
import { KalphiteUsageError } from "./errors.js";
import type { KeySelector, Path, PathValue } from "./types.js";

/** What an aggregate computes over a group's rows. */
export type AggregateKind = "count" | "sum" | "avg" | "min" | "max" | "minBy" | "maxBy";

/**
 * One aggregate of a group's rows, made by the helpers `aggregate()` passes: `count()`,
 * `sum(key)`, `avg(key)`, `min(key)`, `max(key)`, `minBy(key)`, `maxBy(key)`. `R` is its type.
 */
export interface Aggregator<T, R> {
  readonly kind: AggregateKind;
  /** @internal The value of a row this aggregate reads (none for count). */
  readonly value: ((row: T) => unknown) | undefined;
  /** Type only: the aggregate's result. */
  readonly __result?: R;
}

/** The aggregates of one query or group, by name. */
export type AggregateSpec<T> = Record<string, Aggregator<T, unknown>>;

/** The result of an `AggregateSpec`: each name with its aggregate's value. */
export type AggregateResult<S> = {
  readonly [K in keyof S]: S[K] extends Aggregator<any, infer R> ? R : never;
};

/**
 * The helpers `aggregate(build)` passes to `build`, typed by the query's rows. Like SQL, `sum`
 * and `avg` read finite numbers and skip anything else; `min`, `max`, `minBy` and `maxBy` skip
 * `undefined` and `null` and order the rest as `orderBy` does (ties broken by id).
 */
export interface AggregateHelpers<T> {
  /** The number of rows. */
  count(): Aggregator<T, number>;
  /** The sum of a numeric field or function (0 for no rows). */
  sum(key: KeySelector<T>): Aggregator<T, number>;
  /** The mean of a numeric field or function, or undefined for no numbers. */
  avg(key: KeySelector<T>): Aggregator<T, number | undefined>;
  /** The smallest value of a field or function, or undefined. */
  min<P extends Path<T>>(key: P): Aggregator<T, PathValue<T, P> | undefined>;
  min<V>(key: (row: T) => V): Aggregator<T, NonNullable<V> | undefined>;
  /** The largest value of a field or function, or undefined. */
  max<P extends Path<T>>(key: P): Aggregator<T, PathValue<T, P> | undefined>;
  max<V>(key: (row: T) => V): Aggregator<T, NonNullable<V> | undefined>;
  /** The row with the smallest value (the smallest id among ties), or undefined. */
  minBy(key: KeySelector<T>): Aggregator<T, T | undefined>;
  /** The row with the largest value (the largest id among ties): "the latest comment". */
  maxBy(key: KeySelector<T>): Aggregator<T, T | undefined>;
}

function make<T, R>(kind: AggregateKind, key: KeySelector<T> | undefined): Aggregator<T, R> {
  return {
    kind,
    value: kind === "count" ? undefined : toKeyFunction(key!, `${kind}(key)`),
  };
}

/** The helpers, untyped at run time. */
export const aggregateHelpers: AggregateHelpers<any> = {
  count: () => make("count", undefined),
  sum: (key) => make("sum", key),
  avg: (key) => make("avg", key),
  min: (key: KeySelector<any>) => make("min", key),
  max: (key: KeySelector<any>) => make("max", key),
  minBy: (key) => make("minBy", key),
  maxBy: (key) => make("maxBy", key),
} as AggregateHelpers<any>;

/** Calls the user's `build` and checks what it returned. */
export function buildAggregates<T, S extends AggregateSpec<T>>(
  build: (helpers: AggregateHelpers<T>) => S,
): [string, Aggregator<T, unknown>][] {
  if (typeof build !== "function") {
    throw new KalphiteUsageError(
      'aggregate(build) needs a function: aggregate(({ count, max }) => ({ n: count(), latest: max("updatedAt") })).',
    );
  }
  const spec = build(aggregateHelpers as AggregateHelpers<T>);
  const entries = spec !== null && typeof spec === "object" ? Object.entries(spec) : [];
  if (entries.length === 0 || entries.some(([, a]) => !isAggregator(a))) {
    throw new KalphiteUsageError(
      "aggregate(build): build must return an object of aggregates made by its helpers (count(), sum(key), ...).",
    );
  }
  return entries as [string, Aggregator<T, unknown>][];
}

function isAggregator(value: unknown): value is Aggregator<unknown, unknown> {
  return value !== null && typeof value === "object" && "kind" in value && "value" in value;
}
