// @vitest-environment happy-dom
import { act } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { KalphiteUsageError } from "../../src/index.js";
import {
  KalphiteProvider,
  useEntity,
  useKalphiteContext,
  useKalphiteStore,
} from "../../src/react/index.js";
import { comment, review } from "../fixtures/schema.js";
import {
  RunOnMount,
  renderStrict,
  renderStrictInBoundary,
  seededStore,
  setupReactTests,
  type TestStore,
  textOf,
} from "./harness.js";

const { counts, consoleErrors, useCommitCounter } = setupReactTests();

/** Whole-store subscriber on the context's store. */
function Summary() {
  const store = useKalphiteStore<TestStore>();
  useCommitCounter("summary");
  return (
    <p data-testid="summary">
      {store.comment.length} comments, {store.review.length} reviews
    </p>
  );
}

/** Whole-store subscriber on an explicit store. */
function ExplicitSummary({ store }: { store: TestStore }) {
  const same = useKalphiteStore(store);
  useCommitCounter("explicit");
  return <p data-testid="explicit">{same.comment.length}</p>;
}

/** Takes the store from context without subscribing to it. */
function ContextOnly() {
  const store = useKalphiteContext<TestStore>();
  const first = useEntity(store.comment, "c1");
  useCommitCounter("context");
  return <p data-testid="context">{first?.data.body}</p>;
}

describe("useKalphiteStore", () => {
  it("re-renders on every write to the store, and returns it", () => {
    const store = seededStore();
    renderStrict(<Summary />, { store });
    expect(textOf("summary")).toBe("5 comments, 1 reviews");
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
    expect(textOf("summary")).toBe("4 comments, 2 reviews");
  });

  it("re-renders once for a batch", () => {
    const store = seededStore();
    renderStrict(<Summary />, { store });
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
    expect(textOf("summary")).toBe("7 comments, 2 reviews");
  });

  it("does not re-render for a write that changes nothing", () => {
    const store = seededStore();
    renderStrict(<Summary />, { store });
    counts.reset();

    act(() => {
      store.comment.delete("no-such-comment");
    });
    expect(counts.all()).toEqual({});
  });

  it("stops on unmount: later writes cause no renders or warnings", () => {
    const store = seededStore();
    const { unmount } = renderStrict(
      <>
        <KalphiteProvider store={store}>
          <Summary />
        </KalphiteProvider>
        <ExplicitSummary store={store} />
      </>,
    );
    unmount();
    counts.reset();

    act(() => {
      store.comment.upsert("c1", comment("c1", { body: "after unmount" }));
      store.review.delete("r1");
    });
    expect(counts.all()).toEqual({});
    expect(consoleErrors.logged).toEqual([]);
  });

  it("sees a write made between its render and its subscription", () => {
    const store = seededStore();
    renderStrict(
      <>
        <Summary />
        <RunOnMount run={() => store.review.upsert("r2", review("r2"))} />
      </>,
      { store },
    );
    expect(textOf("summary")).toBe("5 comments, 2 reviews");
  });

  it("uses the store it is given over the context's, and switches with it", () => {
    const contextStore = seededStore();
    const first = seededStore();
    const second = seededStore();
    second.comment.delete("c1");
    const { rerender } = renderStrict(<ExplicitSummary store={first} />, { store: contextStore });
    expect(textOf("explicit")).toBe("5");

    rerender(<ExplicitSummary store={second} />);
    expect(textOf("explicit")).toBe("4");
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
    expect(textOf("explicit")).toBe("3");
  });

  it("throws a KalphiteUsageError without a store", () => {
    consoleErrors.silence();
    const { errors } = renderStrictInBoundary(<Summary />);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(KalphiteUsageError);
    expect((errors[0] as Error).message).toMatch(/KalphiteProvider/);
    expect((errors[0] as Error).message).toMatch(/^useKalphiteStore\(\)/);
  });
});

describe("KalphiteProvider", () => {
  it("moves its subscribers to a new store and off the old one", () => {
    const old = seededStore();
    const next = seededStore();
    next.review.delete("r1");
    const { rerender } = renderStrict(
      <KalphiteProvider store={old}>
        <Summary />
        <ContextOnly />
      </KalphiteProvider>,
    );
    rerender(
      <KalphiteProvider store={next}>
        <Summary />
        <ContextOnly />
      </KalphiteProvider>,
    );
    expect(textOf("summary")).toBe("5 comments, 0 reviews");
    counts.reset();

    act(() => {
      old.comment.upsert("c1", comment("c1", { body: "in the old store" }));
      old.review.delete("r1");
    });
    expect(counts.all()).toEqual({});
    expect(textOf("context")).toBe("body of c1");

    act(() => {
      next.comment.upsert("c1", comment("c1", { body: "in the new store" }));
    });
    expect(counts.all()).toEqual({ summary: 1, context: 1 });
    expect(textOf("context")).toBe("in the new store");
  });

  it("the nearest provider's store wins", () => {
    const outer = seededStore();
    const inner = seededStore();
    inner.comment.upsert("c1", comment("c1", { body: "inner" }));
    renderStrict(
      <KalphiteProvider store={inner}>
        <ContextOnly />
      </KalphiteProvider>,
      { store: outer },
    );
    expect(textOf("context")).toBe("inner");
    counts.reset();

    act(() => {
      outer.comment.upsert("c1", comment("c1", { body: "outer" }));
    });
    expect(counts.all()).toEqual({});
    expect(textOf("context")).toBe("inner");
  });
});

describe("useKalphiteContext", () => {
  it("gives the provider's store without subscribing to it", () => {
    const store = seededStore();
    renderStrict(<ContextOnly />, { store });
    expect(textOf("context")).toBe("body of c1");
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
    expect(textOf("context")).toBe("here");
  });

  it("throws a KalphiteUsageError outside a provider", () => {
    consoleErrors.silence();
    const { errors } = renderStrictInBoundary(<ContextOnly />);
    expect(errors[0]).toBeInstanceOf(KalphiteUsageError);
    expect((errors[0] as Error).message).toMatch(/^useKalphiteContext\(\) .*KalphiteProvider/);
  });
});
