import { Component, type ReactNode, useLayoutEffect } from "react";
import { KalphiteStore } from "../../src/index.js";
import { comment, Entity, review } from "../fixtures/schema.js";

/** A store with comments c1..c5 on lines 1..5 (c4, c5 resolved) and one review. */
export function seededStore() {
  const store = KalphiteStore(Entity);
  store.comment.upsertMany([
    comment("c1", { lineNumber: 1 }),
    comment("c2", { lineNumber: 2 }),
    comment("c3", { lineNumber: 3 }),
    comment("c4", { lineNumber: 4, status: "resolved" }),
    comment("c5", { lineNumber: 5, status: "resolved" }),
  ]);
  store.review.upsert("r1", review("r1"));
  return store;
}

export type TestStore = ReturnType<typeof seededStore>;

/**
 * Counts committed renders per name. A component calls `useCommitCounter(counts, name)`; the
 * layout effect without deps runs once per commit of that component (twice on a StrictMode
 * mount, which is why tests reset the counts after mounting).
 *
 * Tests put <StrictMode> at the root of what they render: React 19 double-invokes effects only
 * under a StrictMode it finds at mount, not one rendered by a wrapper component.
 */
export class RenderCounts {
  #counts = new Map<string, number>();

  record(name: string): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + 1);
  }

  of(name: string): number {
    return this.#counts.get(name) ?? 0;
  }

  /** Every name with a non-zero count, for "exactly these re-rendered" assertions. */
  all(): Record<string, number> {
    return Object.fromEntries([...this.#counts].filter(([, n]) => n > 0));
  }

  reset(): void {
    this.#counts.clear();
  }
}

export function useCommitCounter(counts: RenderCounts, name: string): void {
  useLayoutEffect(() => {
    counts.record(name);
  });
}

export class ErrorBoundary extends Component<
  { children: ReactNode; onError?: (error: unknown) => void },
  { error: unknown }
> {
  override state: { error: unknown } = { error: undefined };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override componentDidCatch(error: unknown) {
    this.props.onError?.(error);
  }

  override render() {
    if (this.state.error !== undefined) {
      const message = this.state.error instanceof Error ? this.state.error.message : "error";
      return <p data-testid="error">{message}</p>;
    }
    return this.props.children;
  }
}
