import { cleanup, type RenderResult, render, screen } from "@testing-library/react";
import { Component, type ReactElement, type ReactNode, StrictMode, useLayoutEffect } from "react";
import { afterEach, beforeEach, type MockInstance, vi } from "vitest";
import { KalphiteStore } from "../../src/index.js";
import { type AnyKalphiteStore, KalphiteProvider } from "../../src/react/index.js";
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
 * Counts committed renders per name. A component calls `useCommitCounter(counts, name)` (or the
 * `useCommitCounter(name)` that `setupReactTests` gives); the
 * layout effect without deps runs once per commit of that component (twice on a StrictMode
 * mount, which is why tests reset the counts after mounting).
 *
 * Tests put <StrictMode> at the root of what they render (`renderStrict` does): React 19
 * double-invokes effects only under a StrictMode it finds at mount, not one rendered by a
 * wrapper component.
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

/** `console.error` watched during each test (still printed unless silenced). */
export class ConsoleErrors {
  #spy: MockInstance<typeof console.error> | undefined;

  /** The arguments of every `console.error` call in this test: `[]` when React warned nothing. */
  get logged(): unknown[][] {
    return this.#watching().mock.calls;
  }

  /** Stops printing them, for a test that provokes an error React logs. */
  silence(): void {
    this.#watching().mockImplementation(() => {});
  }

  /** @internal */
  start(): void {
    this.#spy = vi.spyOn(console, "error");
  }

  /** @internal */
  stop(): void {
    this.#spy?.mockRestore();
    this.#spy = undefined;
  }

  #watching(): MockInstance<typeof console.error> {
    if (this.#spy === undefined) throw new Error("ConsoleErrors is read outside a test");
    return this.#spy;
  }
}

/**
 * Call once at the top of a React test file: before each test the render counts are cleared
 * and `console.error` is watched; after it the rendered trees are unmounted and the console
 * restored.
 */
export function setupReactTests(): {
  counts: RenderCounts;
  consoleErrors: ConsoleErrors;
  /** `useCommitCounter(counts, name)` on these counts, for the file's components to call. */
  useCommitCounter: (name: string) => void;
} {
  const counts = new RenderCounts();
  const consoleErrors = new ConsoleErrors();
  beforeEach(() => {
    counts.reset();
    consoleErrors.start();
  });
  afterEach(() => {
    cleanup();
    consoleErrors.stop();
  });
  return { counts, consoleErrors, useCommitCounter: (name) => useCommitCounter(counts, name) };
}

export interface StrictRender {
  /** Renders `ui` in place of the last tree, under the same StrictMode (and provider). */
  rerender(ui: ReactNode): void;
  unmount(): void;
}

/**
 * Renders `ui` under a root <StrictMode>, inside `<KalphiteProvider store={store}>` when a store
 * is given; `rerender` wraps the next tree the same way.
 */
export function renderStrict(ui: ReactNode, options: { store?: AnyKalphiteStore } = {}) {
  const { store } = options;
  const wrap = (node: ReactNode): ReactElement => (
    <StrictMode>
      {store === undefined ? node : <KalphiteProvider store={store}>{node}</KalphiteProvider>}
    </StrictMode>
  );
  const result: RenderResult = render(wrap(ui));
  const strict: StrictRender = {
    rerender: (next) => result.rerender(wrap(next)),
    unmount: () => result.unmount(),
  };
  return strict;
}

/**
 * Renders `ui` like `renderStrict`, inside an `ErrorBoundary`; `errors` are those the boundary
 * caught, in order. The boundary shows the message of the error as `data-testid="error"`.
 */
export function renderStrictInBoundary(ui: ReactNode): StrictRender & { errors: unknown[] } {
  const errors: unknown[] = [];
  const rendered = renderStrict(
    <ErrorBoundary onError={(error) => errors.push(error)}>{ui}</ErrorBoundary>,
  );
  return { ...rendered, errors };
}

/** The text of the element with this `data-testid`. */
export function textOf(testId: string): string | null {
  return screen.getByTestId(testId).textContent;
}

/** Runs `run` in a layout effect on mount: a write between other components' render and subscribe. */
export function RunOnMount({ run }: { run: () => void }): null {
  // biome-ignore lint/correctness/useExhaustiveDependencies: once on mount, as the test means
  useLayoutEffect(() => {
    run();
  }, []);
  return null;
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
