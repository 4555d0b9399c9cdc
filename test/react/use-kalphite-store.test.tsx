// @vitest-environment happy-dom
import { act, cleanup, render, screen } from "@testing-library/react";
import { StrictMode, useLayoutEffect } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { KalphiteUsageError } from "../../src/index.js";
import {
  KalphiteProvider,
  useEntity,
  useKalphiteContext,
  useKalphiteStore,
} from "../../src/react/index.js";
import { comment, review } from "../fixtures/schema.js";
import {
  ErrorBoundary,
  RenderCounts,
  seededStore,
  type TestStore,
  useCommitCounter,
} from "./harness.js";

let counts: RenderCounts;
let errors: ReturnType<typeof vi.spyOn>;

beforeEach(() => {
  counts = new RenderCounts();
  errors = vi.spyOn(console, "error");
});

afterEach(() => {
  cleanup();
  errors.mockRestore();
});

/** Whole-store subscriber on the context's store. */
function Summary() {
  const store = useKalphiteStore<TestStore>();
  useCommitCounter(counts, "summary");
  return (
    <p data-testid="summary">
      {store.comment.length} comments, {store.review.length} reviews
    </p>
  );
}

/** Whole-store subscriber on an explicit store. */
function ExplicitSummary({ store }: { store: TestStore }) {
  const same = useKalphiteStore(store);
  useCommitCounter(counts, "explicit");
  return <p data-testid="explicit">{same.comment.length}</p>;
}

/** Takes the store from context without subscribing to it. */
function ContextOnly() {
  const store = useKalphiteContext<TestStore>();
  const first = useEntity(store.comment, "c1");
  useCommitCounter(counts, "context");
  return <p data-testid="context">{first?.data.body}</p>;
}

function WritesOnMount({ store }: { store: TestStore }) {
  useLayoutEffect(() => {
    store.review.upsert("r2", review("r2"));
  }, [store]);
  return null;
}

describe("useKalphiteStore", () => {
  it("re-renders on every write to the store, and returns it", () => {
    const store = seededStore();
    render(
      <StrictMode>
        <KalphiteProvider store={store}>
          <Summary />
        </KalphiteProvider>
      </StrictMode>,
    );
    expect(screen.getByTestId("summary").textContent).toBe("5 comments, 1 reviews");
    counts.reset();

    act(() => {
      store.comment.upsert("c1", comment("c1", { body: "edited" }));
    });
    expect(counts.all()).toEqual({ summary: 1 });

    act(() => {
      store.review.upsert("r2", review("r2"));
    });
    act(() => {
      store.comment.delete("c5");
    });
    expect(counts.all()).toEqual({ summary: 3 });
    expect(screen.getByTestId("summary").textContent).toBe("4 comments, 2 reviews");
  });

  it("re-renders once for a batch", () => {
    const store = seededStore();
    render(
      <StrictMode>
        <KalphiteProvider store={store}>
          <Summary />
        </KalphiteProvider>
      </StrictMode>,
    );
    counts.reset();

    act(() => {
      store.batch(() => {
        store.comment.upsert("c6", comment("c6"));
        store.comment.delete("c1");
        store.review.upsert("r2", review("r2"));
      });
    });
    act(() => {
      store.comment.upsertMany([comment("c7"), comment("c8")]);
    });
    expect(counts.all()).toEqual({ summary: 2 });
    expect(screen.getByTestId("summary").textContent).toBe("7 comments, 2 reviews");
  });

  it("does not re-render for a write that changes nothing", () => {
    const store = seededStore();
    render(
      <StrictMode>
        <KalphiteProvider store={store}>
          <Summary />
        </KalphiteProvider>
      </StrictMode>,
    );
    counts.reset();

    act(() => {
      store.comment.delete("no-such-comment");
    });
    expect(counts.all()).toEqual({});
  });

  it("stops on unmount: later writes cause no renders or warnings", () => {
    const store = seededStore();
    const { unmount } = render(
      <StrictMode>
        <KalphiteProvider store={store}>
          <Summary />
        </KalphiteProvider>
        <ExplicitSummary store={store} />
      </StrictMode>,
    );
    unmount();
    counts.reset();

    act(() => {
      store.comment.upsert("c1", comment("c1", { body: "after unmount" }));
      store.review.delete("r1");
    });
    expect(counts.all()).toEqual({});
    expect(errors).not.toHaveBeenCalled();
  });

  it("sees a write made between its render and its subscription", () => {
    const store = seededStore();
    render(
      <StrictMode>
        <KalphiteProvider store={store}>
          <Summary />
          <WritesOnMount store={store} />
        </KalphiteProvider>
      </StrictMode>,
    );
    expect(screen.getByTestId("summary").textContent).toBe("5 comments, 2 reviews");
  });

  it("uses the store it is given over the context's, and switches with it", () => {
    const contextStore = seededStore();
    const first = seededStore();
    const second = seededStore();
    second.comment.delete("c1");
    const tree = (store: TestStore) => (
      <StrictMode>
        <KalphiteProvider store={contextStore}>
          <ExplicitSummary store={store} />
        </KalphiteProvider>
      </StrictMode>
    );
    const { rerender } = render(tree(first));
    expect(screen.getByTestId("explicit").textContent).toBe("5");

    rerender(tree(second));
    expect(screen.getByTestId("explicit").textContent).toBe("4");
    counts.reset();

    act(() => {
      contextStore.comment.delete("c2");
      first.comment.delete("c2");
    });
    expect(counts.all()).toEqual({});
    act(() => {
      second.comment.delete("c2");
    });
    expect(counts.all()).toEqual({ explicit: 1 });
    expect(screen.getByTestId("explicit").textContent).toBe("3");
  });

  it("throws a KalphiteUsageError without a store", () => {
    errors.mockImplementation(() => {});
    const caught = vi.fn();
    render(
      <StrictMode>
        <ErrorBoundary onError={caught}>
          <Summary />
        </ErrorBoundary>
      </StrictMode>,
    );
    expect(caught).toHaveBeenCalledTimes(1);
    const error = caught.mock.calls[0]![0];
    expect(error).toBeInstanceOf(KalphiteUsageError);
    expect((error as Error).message).toMatch(/KalphiteProvider/);
  });
});

describe("useKalphiteContext", () => {
  it("gives the provider's store without subscribing to it", () => {
    const store = seededStore();
    render(
      <StrictMode>
        <KalphiteProvider store={store}>
          <ContextOnly />
        </KalphiteProvider>
      </StrictMode>,
    );
    expect(screen.getByTestId("context").textContent).toBe("body of c1");
    counts.reset();

    act(() => {
      store.comment.upsert("c2", comment("c2", { body: "elsewhere" }));
      store.review.delete("r1");
    });
    expect(counts.all()).toEqual({});

    act(() => {
      store.comment.upsert("c1", comment("c1", { body: "here" }));
    });
    expect(counts.all()).toEqual({ context: 1 });
    expect(screen.getByTestId("context").textContent).toBe("here");
  });

  it("throws a KalphiteUsageError outside a provider", () => {
    errors.mockImplementation(() => {});
    const caught = vi.fn();
    render(
      <StrictMode>
        <ErrorBoundary onError={caught}>
          <ContextOnly />
        </ErrorBoundary>
      </StrictMode>,
    );
    expect(caught.mock.calls[0]![0]).toBeInstanceOf(KalphiteUsageError);
  });
});
