import { batch, type Signal, signal } from "@preact/signals-core";
import { type DependencyList, useCallback, useEffect, useLayoutEffect, useMemo } from "react";
import type { LiveQuery } from "../core/live-query.js";
import type { LiveWindow } from "../core/live-window.js";
import type { Row } from "../core/types.js";
import { useValue } from "./use-value.js";

const EMPTY_ROWS: never[] = Object.freeze([]) as unknown as never[];
const EMPTY_DEPS: DependencyList = [];
const useIsomorphicLayoutEffect = typeof window === "undefined" ? useEffect : useLayoutEffect;

/** Where a `useLiveWindow` starts and how many rows it shows. */
export interface LiveWindowOptions {
  /**
   * How many rows the window shows (the rows that fit on screen, plus some overscan).
   */
  count: number;
  /**
   * The position of the first row shown when the window is created.
   * @default 0
   */
  offset?: number;
}

/** What `useLiveWindow` returns. */
export interface LiveWindowState<T> {
  /** The rows shown: positions [offset, offset + count) of the query's result. */
  rows: T[];
  /** The number of rows of the whole result, for the scroll height. */
  total: number;
  /** The position of the first row shown. */
  offset: number;
  /** Moves the window (from a scroll handler): one re-render if its rows or offset change. */
  moveTo: (offset: number, count?: number) => void;
}

/**
 * A movable window onto a sorted live query, for a virtualized list. The component re-renders
 * only when the rows shown, the offset or the total change: a write outside the window renders
 * nothing, and a scroll (`moveTo`) costs O(log n + count) and never re-sorts.
 *
 * The query, or a factory building it (run once, and again when `deps` change; `deps` defaults
 * to `[]`), as in `useLiveQuery`; `null` or `undefined` give no rows.
 *
 * @example
 * function Comments() {
 *   const { rows, total, moveTo } = useLiveWindow(
 *     () => store.comment.live.orderBy("data.lineNumber"),
 *     { count: 40 },
 *   );
 *   return (
 *     <div style={{ height: 600, overflow: "auto" }}
 *          onScroll={(e) => moveTo(Math.floor(e.currentTarget.scrollTop / 24))}>
 *       <div style={{ height: total * 24 }}>{rows.map((c) => <Line key={c.id} comment={c} />)}</div>
 *     </div>
 *   );
 * }
 */
export function useLiveWindow<T extends Row>(
  query: LiveQuery<T> | null | undefined,
  options: LiveWindowOptions,
): LiveWindowState<T>;
export function useLiveWindow<T extends Row>(
  factory: () => LiveQuery<T> | null | undefined,
  options: LiveWindowOptions,
  deps?: DependencyList,
): LiveWindowState<T>;
export function useLiveWindow<T extends Row>(
  queryOrFactory: LiveQuery<T> | null | undefined | (() => LiveQuery<T> | null | undefined),
  options: LiveWindowOptions,
  deps?: DependencyList,
): LiveWindowState<T> {
  const isFactory = typeof queryOrFactory === "function";
  const query = useMemo(
    () => (typeof queryOrFactory === "function" ? queryOrFactory() : queryOrFactory),
    // biome-ignore lint/correctness/useExhaustiveDependencies: a factory is memoized by the caller's deps
    isFactory ? (deps ?? EMPTY_DEPS) : [queryOrFactory],
  );
  const { count, offset = 0 } = options;
  // One window per query: later offsets come through moveTo, a new count through the effect.
  // The window's offset is no signal (its rows are, and a move may leave them unchanged), and
  // only this hook moves the window, so the hook keeps the offset in a signal of its own.
  // biome-ignore lint/correctness/useExhaustiveDependencies: offset and count are starting values
  const { live, position } = useMemo((): {
    live: LiveWindow<T> | undefined;
    position: Signal<number>;
  } => {
    const created = query?.window(offset, count) ?? undefined;
    return { live: created, position: signal(created?.offset ?? 0) };
  }, [query]);
  useIsomorphicLayoutEffect(() => {
    if (live !== undefined && live.count !== count) live.moveTo(live.offset, count);
  }, [live, count]);
  const rows = useValue(() => (live ? live.value : EMPTY_ROWS), [live]);
  const total = useValue(() => (live ? live.total : 0), [live]);
  const shownOffset = useValue(() => position.value, [position]);
  const moveTo = useCallback(
    (to: number, size?: number) => {
      if (live === undefined) return;
      // One batch: the rows and the offset reach the component together.
      batch(() => {
        live.moveTo(to, size ?? live.count);
        position.value = live.offset;
      });
    },
    [live, position],
  );
  return { rows, total, offset: shownOffset, moveTo };
}
