import { computed, effect, type ReadonlySignal, type Signal, signal } from "@preact/signals-core";
import {
  type DependencyList,
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useState,
  useSyncExternalStore,
} from "react";
import type { Groups, LiveGroups } from "../core/live-groups.js";
import type { LiveQuery } from "../core/live-query.js";
import { TypedCollection } from "../core/typed-collection.js";
import type { Entity, EntityId, Row } from "../core/types.js";

// How `useValue` works
//
// Each render memoizes `fn` wrapped in a preact `computed` (by `deps`, or by the identity of `fn`
// when there are none). `getSnapshot` is `computed.peek()`, which is cached until a signal `fn`
// read changes, so React sees the same value until then (no loops, no tearing warnings; a write
// in the middle of a concurrent render is caught by React's own consistency check because
// `peek()` then recomputes). A new computed (every render without deps) hands out the value of
// the last committed render again when its first result has the same items, so a re-render with
// no store change returns the same array, fit for a React dependency.
//
// The subscription is one preact `effect` per hook instance, created by React's `subscribe`
// (after commit, so an abandoned render leaks nothing). It reads the committed computed through
// a signal, so when `fn` changes (other props, other deps) the effect moves to the new computed
// in place: nothing is unsubscribed and resubscribed, and a live query read by both keeps its
// index instead of being torn down and rebuilt on every render.

const NONE: unique symbol = Symbol("none");
const EMPTY_DEPS: DependencyList = [];
const EMPTY_ROWS: never[] = Object.freeze([]) as unknown as never[];
const EMPTY_GROUPS: Groups<never, never> = Object.freeze(Object.create(null));

const useIsomorphicLayoutEffect = typeof window === "undefined" ? useEffect : useLayoutEffect;

/**
 * `fn` as a computed that hands out its previous array again when a new one has the same items,
 * or else the hook's last committed value when that one has them (the computed is new).
 * A collection (`store.comment`) is one object that changes in place, so it is handed out as a
 * plain array copy: React then sees a new value when the collection changed.
 */
function trackedComputed<T>(fn: () => T, tracker: Tracker<T>): ReadonlySignal<T> {
  let last: T | typeof NONE = NONE;
  return computed(() => {
    const value = fn();
    const next = value instanceof TypedCollection ? (value.slice() as T) : value;
    if (last !== NONE && sameItems(last, next)) return last;
    const { committed } = tracker;
    last = committed !== NONE && sameItems(committed, next) ? committed : next;
    return last;
  });
}

/** Two arrays with the same items in the same order (a query result that did not change). */
function sameItems(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** What one `useValue` keeps across its renders. */
interface Tracker<T> {
  /** The computed of the latest committed render (none before the first commit). */
  readonly current: Signal<ReadonlySignal<T> | undefined>;
  /** The value of the latest committed render. */
  committed: T | typeof NONE;
  readonly subscribe: (onChange: () => void) => () => void;
}

function createTracker<T>(): Tracker<T> {
  const current = signal<ReadonlySignal<T> | undefined>(undefined);
  const subscribe = (onChange: () => void): (() => void) => {
    let first = true;
    return effect(() => {
      try {
        current.value?.value;
      } catch {
        // `fn` threw: the error is cached in the computed and rethrown by getSnapshot during
        // render, where an error boundary can catch it. It must not escape into a store write.
      }
      // The first run only subscribes: React itself checks for a change since render.
      if (!first) onChange();
      first = false;
    });
  };
  return { current, committed: NONE, subscribe };
}

/**
 * Runs `fn`, tracking every signal it reads, and re-renders the component only when one of them
 * changes and `fn` then returns something else. Reading `store.comment.findById(id)` tracks that
 * one comment; reading the collection's contents (`length`, `map`, `where`, ...) tracks the whole
 * collection; reading a live query tracks its visible rows.
 *
 * `fn` is memoized by `deps` like `useMemo`; without `deps` it is taken anew on every render
 * (the subscription itself stays in place). An array that has the same items as the previous
 * result is returned as the previous array, also across renders, so `where`/`map` results only
 * re-render when their items changed and can be a React dependency. If `fn` throws, the error
 * is thrown during render.
 *
 * @example
 * function CommentBody({ id }: { id: string }) {
 *   const body = useValue(() => store.comment.findById(id)?.data.body, [id]);
 *   return <p>{body}</p>;
 * }
 * @example
 * const openCount = useValue(() => store.comment.where((c) => c.data.status === "open").length);
 */
export function useValue<T>(fn: () => T, deps?: DependencyList): T {
  const [tracker] = useState(createTracker<T>);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller's deps, as in useMemo
  const value = useMemo(() => trackedComputed(fn, tracker), deps ?? [fn]);
  const getSnapshot = useCallback(() => value.peek(), [value]);
  const result = useSyncExternalStore(tracker.subscribe, getSnapshot, getSnapshot);
  useIsomorphicLayoutEffect(() => {
    tracker.committed = result;
    tracker.current.value = value;
  }, [tracker, value, result]);
  return result;
}

/**
 * The value of any signal (a preact `signal`/`computed`, an entity signal, a live query),
 * re-rendering when it changes.
 *
 * @example
 * const count = signal(0);
 * function Counter() {
 *   return <span>{useSignalValue(count)}</span>;
 * }
 */
export function useSignalValue<T>(source: ReadonlySignal<T>): T {
  return useValue(() => source.value, [source]);
}

/**
 * The rows of a live query. Re-renders only when the visible result changes (a matching row
 * changed, entered or left), never for a write the query does not show.
 *
 * Pass a `LiveQuery` that lives outside the component, or a factory that builds one: the
 * factory runs once, and again when `deps` change (like `useMemo`; `deps` defaults to `[]`).
 * A factory may return `null` or `undefined` for "no query": the rows are then `[]`.
 *
 * @example
 * function OpenComments({ line }: { line: number }) {
 *   const rows = useLiveQuery(
 *     () => store.comment.live
 *       .where((c) => c.data.status === "open" && c.data.lineNumber === line)
 *       .orderBy("updatedAt", "desc")
 *       .limit(20),
 *     [line],
 *   );
 *   return <ul>{rows.map((c) => <li key={c.id}>{c.data.body}</li>)}</ul>;
 * }
 */
export function useLiveQuery<T extends Row>(query: LiveQuery<T> | null | undefined): T[];
export function useLiveQuery<T extends Row>(
  factory: () => LiveQuery<T> | null | undefined,
  deps?: DependencyList,
): T[];
export function useLiveQuery<T extends Row>(
  queryOrFactory: LiveQuery<T> | null | undefined | (() => LiveQuery<T> | null | undefined),
  deps?: DependencyList,
): T[] {
  return useLive<T[]>(queryOrFactory, deps, EMPTY_ROWS);
}

/**
 * The groups of a live `groupBy`: a record from group to rows, each group in the query's order.
 * Re-renders only when a group changes; a group that did not change keeps its array, so a child
 * given one group can be memoized. The groups, or their factory, as in `useLiveQuery`; `null` or
 * `undefined` give no groups (`{}`).
 *
 * @example
 * function Board() {
 *   const groups = useLiveGroups(() => store.comment.live.orderBy("updatedAt", "desc").groupBy("data.status"));
 *   return <><Column rows={groups.open ?? []} /><Column rows={groups.resolved ?? []} /></>;
 * }
 */
export function useLiveGroups<T extends Row, K extends PropertyKey>(
  groups: LiveGroups<T, K> | null | undefined,
): Groups<T, K>;
export function useLiveGroups<T extends Row, K extends PropertyKey>(
  factory: () => LiveGroups<T, K> | null | undefined,
  deps?: DependencyList,
): Groups<T, K>;
export function useLiveGroups<T extends Row, K extends PropertyKey>(
  groupsOrFactory:
    | LiveGroups<T, K>
    | null
    | undefined
    | (() => LiveGroups<T, K> | null | undefined),
  deps?: DependencyList,
): Groups<T, K> {
  return useLive<Groups<T, K>>(groupsOrFactory, deps, EMPTY_GROUPS);
}

/** A live signal given as is or built by a factory (memoized by `deps`), read in a render. */
function useLive<V>(
  sourceOrFactory:
    | ReadonlySignal<V>
    | null
    | undefined
    | (() => ReadonlySignal<V> | null | undefined),
  deps: DependencyList | undefined,
  empty: V,
): V {
  const isFactory = typeof sourceOrFactory === "function";
  const source = useMemo(
    () => (typeof sourceOrFactory === "function" ? sourceOrFactory() : sourceOrFactory),
    // biome-ignore lint/correctness/useExhaustiveDependencies: a factory is memoized by the caller's deps
    isFactory ? (deps ?? EMPTY_DEPS) : [sourceOrFactory],
  );
  return useValue(() => (source ? source.value : empty), [source]);
}

/**
 * One entity of a collection, or `undefined` while it does not exist (or when `id` is
 * `null`/`undefined`). Re-renders only when that entity is written or deleted.
 *
 * @example
 * function Review({ id }: { id: string }) {
 *   const review = useEntity(store.review, id);
 *   return review ? <h2>{review.data.title}</h2> : null;
 * }
 */
export function useEntity<T extends Entity>(
  collection: TypedCollection<T>,
  id: EntityId | null | undefined,
): T | undefined {
  return useValue(
    () => (id === null || id === undefined ? undefined : collection.signal(id).value),
    [collection, id],
  );
}

/**
 * Every entity of a collection as a plain array, in collection order. Re-renders on any write
 * to that collection (prefer `useLiveQuery` or `useEntity` for a part of it).
 *
 * @example
 * function ReviewCount() {
 *   return <span>{useCollection(store.review).length} reviews</span>;
 * }
 */
export function useCollection<T extends Entity>(collection: TypedCollection<T>): T[] {
  return useValue(() => collection.slice(), [collection]);
}
