// @vitest-environment happy-dom
import { act, screen } from "@testing-library/react";
import { Activity } from "react";
import { describe, expect, it, vi } from "vitest";
import type { LiveQuery } from "../../src/index.js";
import { useLiveQuery, useValue } from "../../src/react/index.js";
import { type Comment, comment, review } from "../fixtures/schema.js";
import { renderStrict, seededStore, setupReactTests, type TestStore, textOf } from "./harness.js";

const { counts, consoleErrors, useCommitCounter } = setupReactTests();

/** The first two open comments by line number, through a factory. */
function FirstOpen({ store, predicate }: { store: TestStore; predicate?: () => void }) {
  const rows = useLiveQuery(() =>
    store.comment.live
      .where((c) => {
        predicate?.();
        return c.data.status === "open";
      })
      .orderBy("data.lineNumber")
      .limit(2),
  );
  useCommitCounter("list");
  return <List rows={rows} />;
}

function Shared({ query, name }: { query: LiveQuery<Comment>; name: string }) {
  const rows = useLiveQuery(query);
  useCommitCounter(name);
  return <List rows={rows} testId={name} />;
}

function OnLine({ store, line }: { store: TestStore; line: number | undefined }) {
  const rows = useLiveQuery(
    () => (line === undefined ? null : store.comment.live.where((c) => c.data.lineNumber === line)),
    [line],
  );
  useCommitCounter("line");
  return <List rows={rows} />;
}

/** Reads a live query through useValue without deps: a new function on every render. */
function ThroughValue({ query, label }: { query: LiveQuery<Comment>; label: string }) {
  const rows = useValue(() => query.value);
  useCommitCounter("through");
  return (
    <p data-testid="through">
      {label}: {rows.length}
    </p>
  );
}

/** Builds its query through `factory` (no deps); `label` is a prop the query does not use. */
function Built({ factory, label }: { factory: () => LiveQuery<Comment>; label: string }) {
  const rows = useLiveQuery(factory);
  useCommitCounter("built");
  return (
    <p data-testid="built">
      {label}: {rows.map((c) => c.id).join(",")}
    </p>
  );
}

function Plain() {
  useCommitCounter("plain");
  return null;
}

function List({ rows, testId = "list" }: { rows: readonly Comment[]; testId?: string }) {
  return <p data-testid={testId}>{rows.map((c) => `${c.id}:${c.data.body}`).join(" ")}</p>;
}

describe("useLiveQuery", () => {
  it("mounts without an extra render", () => {
    const store = seededStore();
    renderStrict(
      <>
        <FirstOpen store={store} />
        <Plain />
      </>,
    );
    // StrictMode runs layout effects twice on mount; the list commits exactly as often as a
    // component without hooks, so subscribing (which moves the query onto its index) did not
    // produce a second result.
    expect(counts.of("plain")).toBe(2);
    expect(counts.of("list")).toBe(counts.of("plain"));
    expect(textOf("list")).toBe("c1:body of c1 c2:body of c2");
  });

  it("re-renders when a shown row changes, not for rows it does not show", () => {
    const store = seededStore();
    renderStrict(<FirstOpen store={store} />);
    counts.reset();

    act(() => {
      store.comment.upsert("c1", comment("c1", { lineNumber: 1, body: "edited" }));
    });
    expect(counts.all()).toEqual({ list: 1 });
    expect(textOf("list")).toBe("c1:edited c2:body of c2");

    counts.reset();
    act(() => {
      // Not matching: a resolved comment, and a review.
      store.comment.upsert("c4", comment("c4", { lineNumber: 4, status: "resolved", body: "x" }));
      store.review.upsert("r1", review("r1", "renamed"));
      // Matching but outside the limit: c3 is third.
      store.comment.upsert("c3", comment("c3", { lineNumber: 3, body: "beyond the limit" }));
      store.comment.upsert("c9", comment("c9", { lineNumber: 9 }));
    });
    expect(counts.all()).toEqual({});

    act(() => {
      // Entering the visible rows.
      store.comment.upsert("c0", comment("c0", { lineNumber: 0 }));
    });
    expect(counts.all()).toEqual({ list: 1 });
    expect(textOf("list")).toBe("c0:body of c0 c1:edited");

    counts.reset();
    act(() => {
      // Leaving them.
      store.comment.upsert("c0", comment("c0", { lineNumber: 0, status: "resolved" }));
    });
    expect(counts.all()).toEqual({ list: 1 });
    expect(textOf("list")).toBe("c1:edited c2:body of c2");
    expect(consoleErrors.logged).toEqual([]);
  });

  it("re-renders once for a batch", () => {
    const store = seededStore();
    renderStrict(<FirstOpen store={store} />);
    counts.reset();

    act(() => {
      store.batch(() => {
        store.comment.upsert("c1", comment("c1", { lineNumber: 1, body: "a" }));
        store.comment.upsert("c2", comment("c2", { lineNumber: 2, body: "b" }));
        store.comment.delete("c3");
      });
    });
    expect(counts.all()).toEqual({ list: 1 });
    expect(textOf("list")).toBe("c1:a c2:b");
  });

  it("shares one query between components", () => {
    const store = seededStore();
    const query = store.comment.live.where((c) => c.data.lineNumber > 3);
    renderStrict(
      <>
        <Shared query={query} name="a" />
        <Shared query={query} name="b" />
      </>,
    );
    counts.reset();

    act(() => {
      store.comment.upsert("c5", comment("c5", { lineNumber: 5, body: "both" }));
    });
    expect(counts.all()).toEqual({ a: 1, b: 1 });
    expect(textOf("b")).toBe("c4:body of c4 c5:both");
  });

  it("builds a new query when the deps change, and none for null", () => {
    const store = seededStore();
    const { rerender } = renderStrict(<OnLine store={store} line={undefined} />);
    expect(textOf("list")).toBe("");

    rerender(<OnLine store={store} line={1} />);
    expect(textOf("list")).toBe("c1:body of c1");
    rerender(<OnLine store={store} line={2} />);
    expect(textOf("list")).toBe("c2:body of c2");
    counts.reset();

    act(() => {
      store.comment.upsert("c1", comment("c1", { lineNumber: 1, body: "old line" }));
    });
    expect(counts.all()).toEqual({});
    act(() => {
      store.comment.upsert("c6", comment("c6", { lineNumber: 2 }));
    });
    expect(counts.all()).toEqual({ line: 1 });
    expect(textOf("list")).toBe("c2:body of c2 c6:body of c6");
  });

  it("lets go of the query on unmount: later writes evaluate nothing", () => {
    const store = seededStore();
    const predicate = vi.fn();
    const { unmount } = renderStrict(<FirstOpen store={store} predicate={predicate} />);
    act(() => {
      store.comment.upsert("c1", comment("c1", { lineNumber: 1, body: "while mounted" }));
    });
    expect(predicate).toHaveBeenCalled();

    unmount();
    counts.reset();
    predicate.mockClear();
    act(() => {
      store.comment.upsert("c1", comment("c1", { lineNumber: 1, body: "after unmount" }));
      store.comment.delete("c2");
    });
    expect(predicate).not.toHaveBeenCalled();
    expect(counts.all()).toEqual({});
    expect(consoleErrors.logged).toEqual([]);
  });

  it("unsubscribes while hidden by <Activity> and catches up when shown", () => {
    const store = seededStore();
    const predicate = vi.fn();
    const tree = (mode: "visible" | "hidden") => (
      <Activity mode={mode}>
        <FirstOpen store={store} predicate={predicate} />
      </Activity>
    );
    const { rerender } = renderStrict(tree("visible"));
    rerender(tree("hidden"));
    predicate.mockClear();

    act(() => {
      store.comment.upsert("c1", comment("c1", { lineNumber: 1, body: "while hidden" }));
    });
    expect(predicate).not.toHaveBeenCalled();

    rerender(tree("visible"));
    expect(textOf("list")).toBe("c1:while hidden c2:body of c2");
    counts.reset();
    act(() => {
      store.comment.upsert("c2", comment("c2", { lineNumber: 2, body: "shown again" }));
    });
    expect(counts.all()).toEqual({ list: 1 });
    expect(textOf("list")).toBe("c1:while hidden c2:shown again");
  });

  it("keeps a query's index across re-renders that take a new function", () => {
    const store = seededStore();
    const predicate = vi.fn((c: Comment) => c.data.status === "open");
    const query = store.comment.live.where(predicate);
    const { rerender } = renderStrict(<ThroughValue query={query} label="a" />);
    predicate.mockClear();

    // Re-rendering moves the subscription to the new function's computed in place: the query
    // stays watched, so its index is not rebuilt (which would test every comment again).
    rerender(<ThroughValue query={query} label="b" />);
    rerender(<ThroughValue query={query} label="c" />);
    expect(textOf("through")).toBe("c: 3");
    expect(predicate).not.toHaveBeenCalled();

    act(() => {
      store.comment.upsert("c6", comment("c6"));
    });
    expect(predicate).toHaveBeenCalledTimes(1);
    expect(textOf("through")).toBe("c: 4");
  });

  it("runs a factory without deps once, not on every re-render", () => {
    const store = seededStore();
    const factory = vi.fn(() => store.comment.live.where((c) => c.data.status === "resolved"));
    const { rerender } = renderStrict(<Built factory={factory} label="a" />);
    expect(factory).toHaveBeenCalled();
    factory.mockClear();

    rerender(<Built factory={factory} label="b" />);
    rerender(<Built factory={() => store.comment.live} label="c" />);
    expect(factory).not.toHaveBeenCalled();
    expect(textOf("built")).toBe("c: c4,c5");
  });

  it("follows a new query passed in its place, and lets go of the old one", () => {
    const store = seededStore();
    const oldPredicate = vi.fn((c: Comment) => c.data.lineNumber <= 2);
    const before = store.comment.live.where(oldPredicate);
    const after = store.comment.live.where((c) => c.data.lineNumber >= 4);
    const { rerender } = renderStrict(<Shared query={before} name="shared" />);
    expect(textOf("shared")).toBe("c1:body of c1 c2:body of c2");

    rerender(<Shared query={after} name="shared" />);
    expect(textOf("shared")).toBe("c4:body of c4 c5:body of c5");
    counts.reset();
    oldPredicate.mockClear();

    act(() => {
      store.comment.upsert("c1", comment("c1", { lineNumber: 1, body: "old query only" }));
    });
    expect(counts.all()).toEqual({});
    expect(oldPredicate).not.toHaveBeenCalled();

    act(() => {
      store.comment.upsert("c4", comment("c4", { lineNumber: 4, body: "new query" }));
    });
    expect(counts.all()).toEqual({ shared: 1 });
    expect(textOf("shared")).toBe("c4:new query c5:body of c5");
  });

  it("keeps a shared query live for the components still showing it", () => {
    const store = seededStore();
    const query = store.comment.live.where((c) => c.data.lineNumber > 3);
    const tree = (withA: boolean) => (
      <>
        {withA && <Shared query={query} name="a" />}
        <Shared query={query} name="b" />
      </>
    );
    const { rerender } = renderStrict(tree(true));
    rerender(tree(false));
    expect(screen.queryByTestId("a")).toBeNull();
    counts.reset();

    act(() => {
      store.comment.upsert("c6", comment("c6", { lineNumber: 6 }));
    });
    expect(counts.all()).toEqual({ b: 1 });
    expect(textOf("b")).toBe("c4:body of c4 c5:body of c5 c6:body of c6");
    expect(consoleErrors.logged).toEqual([]);
  });
});
