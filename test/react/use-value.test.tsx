// @vitest-environment happy-dom
import { signal } from "@preact/signals-core";
import { act } from "@testing-library/react";
import { useEffect, useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { useCollection, useEntity, useSignalValue, useValue } from "../../src/react/index.js";
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

function ValueComment({ store, id }: { store: TestStore; id: string }) {
  const found = useValue(() => store.comment.findById(id), [id]);
  useCommitCounter(id);
  return <p data-testid={id}>{found?.data.body ?? "(none)"}</p>;
}

function EntityComment({ store, id }: { store: TestStore; id: string | undefined }) {
  const found = useEntity(store.comment, id);
  useCommitCounter(`entity:${id}`);
  return <p data-testid="entity">{found?.data.body ?? "(none)"}</p>;
}

function OpenCount({ store }: { store: TestStore }) {
  const open = useValue(() => store.comment.where((c) => c.data.status === "open").length, []);
  useCommitCounter("count");
  return <p data-testid="count">{open}</p>;
}

function Resolved({ store }: { store: TestStore }) {
  const rows = useValue(() => store.comment.where((c) => c.data.status === "resolved"), []);
  useCommitCounter("resolved");
  return <p data-testid="resolved">{rows.map((c) => c.id).join(",")}</p>;
}

/** Reads a comment's body without deps: a new function on every render. */
function BodyWithoutDeps({ store, id, runs }: { store: TestStore; id: string; runs: () => void }) {
  const body = useValue(() => {
    runs();
    return store.comment.findById(id)?.data.body;
  });
  useCommitCounter("body");
  return <p data-testid="body">{body}</p>;
}

function Tracked({ store, runs }: { store: TestStore; runs: () => void }) {
  const found = useValue(() => {
    runs();
    return store.comment.findById("c1");
  }, []);
  useCommitCounter("tracked");
  return <p>{found?.data.body}</p>;
}

function Fragile({ store }: { store: TestStore }) {
  const body = useValue(() => {
    const found = store.comment.findById("c1");
    if (found?.data.body === "boom") throw new Error("cannot show boom");
    return found?.data.body;
  }, [store]);
  return <p>{body}</p>;
}

function AllReviews({ store }: { store: TestStore }) {
  const reviews = useCollection(store.review);
  useCommitCounter("reviews");
  return <p data-testid="reviews">{reviews.map((r) => r.data.title).join(",")}</p>;
}

const count = signal(0);

function Counter() {
  const value = useSignalValue(count);
  useCommitCounter("counter");
  return <p data-testid="counter">{value}</p>;
}

describe("useValue", () => {
  it("re-renders only the component showing the edited comment", () => {
    const store = seededStore();
    renderStrict(
      <>
        <ValueComment store={store} id="c1" />
        <ValueComment store={store} id="c2" />
        <ValueComment store={store} id="c3" />
      </>,
    );
    counts.reset();

    act(() => {
      store.comment.upsert("c2", comment("c2", { body: "edited" }));
    });
    expect(counts.all()).toEqual({ c2: 1 });
    expect(textOf("c2")).toBe("edited");
    expect(textOf("c1")).toBe("body of c1");

    counts.reset();
    act(() => {
      store.comment.upsert("c9", comment("c9"));
      store.review.upsert("r1", { ...store.review.findById("r1")!, updatedAt: 2 });
      store.comment.delete("c5");
    });
    expect(counts.all()).toEqual({});
    expect(consoleErrors.logged).toEqual([]);
  });

  it("re-renders once for a batch of writes", () => {
    const store = seededStore();
    renderStrict(
      <>
        <ValueComment store={store} id="c1" />
        <ValueComment store={store} id="c2" />
      </>,
    );
    counts.reset();

    act(() => {
      store.batch(() => {
        store.comment.upsert("c1", comment("c1", { body: "one" }));
        store.comment.upsert("c1", comment("c1", { body: "two" }));
        store.comment.upsert("c2", comment("c2", { body: "three" }));
      });
    });
    expect(counts.all()).toEqual({ c1: 1, c2: 1 });
    expect(textOf("c1")).toBe("two");
  });

  it("re-renders only when the derived value changes", () => {
    const store = seededStore();
    renderStrict(
      <>
        <OpenCount store={store} />
        <Resolved store={store} />
      </>,
    );
    counts.reset();

    // An open comment's body changes: same count, same resolved rows.
    act(() => {
      store.comment.upsert("c1", comment("c1", { body: "edited" }));
    });
    expect(counts.all()).toEqual({});

    act(() => {
      store.comment.upsert("c1", comment("c1", { status: "resolved" }));
    });
    expect(counts.all()).toEqual({ count: 1, resolved: 1 });
    expect(textOf("count")).toBe("2");
    expect(textOf("resolved")).toBe("c1,c4,c5");
  });

  it("follows a new id when the deps change", () => {
    const store = seededStore();
    const { rerender } = renderStrict(<ValueComment store={store} id="c1" />);
    rerender(<ValueComment store={store} id="c2" />);
    expect(textOf("c2")).toBe("body of c2");
    counts.reset();

    act(() => {
      store.comment.upsert("c1", comment("c1", { body: "old id" }));
    });
    expect(counts.all()).toEqual({});

    act(() => {
      store.comment.upsert("c2", comment("c2", { body: "new id" }));
    });
    expect(counts.all()).toEqual({ c2: 1 });
    expect(textOf("c2")).toBe("new id");
  });

  it("takes a new function on every render when there are no deps", () => {
    const store = seededStore();
    const runs = vi.fn();
    const { rerender } = renderStrict(<BodyWithoutDeps store={store} id="c1" runs={runs} />);
    rerender(<BodyWithoutDeps store={store} id="c3" runs={runs} />);
    expect(textOf("body")).toBe("body of c3");
    counts.reset();
    runs.mockClear();

    act(() => {
      store.comment.upsert("c1", comment("c1", { body: "x" }));
    });
    expect(counts.all()).toEqual({});
    expect(runs).not.toHaveBeenCalled();

    act(() => {
      store.comment.upsert("c3", comment("c3", { body: "y" }));
    });
    expect(textOf("body")).toBe("y");
    expect(counts.all()).toEqual({ body: 1 });
  });

  it("returns the same array across re-renders without deps, fit for a React dependency", () => {
    const store = seededStore();
    const runs = vi.fn();
    // The values each effect ran for.
    const effects = { open: [] as unknown[], whole: [] as unknown[] };
    let renders = 0;
    let bump = () => {};
    function OpenRows() {
      const [, setTick] = useState(0);
      bump = () => setTick((n) => n + 1);
      renders++;
      const open = useValue(() => {
        runs();
        return store.comment.where((c) => c.data.status === "open");
      });
      const whole = useValue(() => store.comment);
      useEffect(() => {
        effects.open.push(open);
      }, [open]);
      useEffect(() => {
        effects.whole.push(whole);
      }, [whole]);
      return <p data-testid="open">{open.map((c) => c.id).join(",")}</p>;
    }
    renderStrict(<OpenRows />);
    effects.open = [];
    effects.whole = [];
    renders = 0;
    runs.mockClear();

    // A re-render of its own with no store change: the same arrays, so no effect runs.
    act(() => bump());
    act(() => bump());
    expect(effects.open).toHaveLength(0);
    expect(effects.whole).toHaveLength(0);
    // Its function runs once per render of the component, no more.
    expect(renders).toBeGreaterThan(0);
    expect(runs).toHaveBeenCalledTimes(renders);

    act(() => {
      store.comment.upsert("c1", comment("c1", { status: "resolved" }));
    });
    expect(textOf("open")).toBe("c2,c3");
    expect(effects.open).toHaveLength(1);
    expect(effects.whole).toHaveLength(1);
    act(() => bump());
    expect(effects.open).toHaveLength(1);
    expect(effects.whole).toHaveLength(1);
    expect(consoleErrors.logged).toEqual([]);
  });

  it("stops tracking on unmount: later writes run nothing and warn nothing", () => {
    const store = seededStore();
    const runs = vi.fn();
    const { unmount } = renderStrict(<Tracked store={store} runs={runs} />);
    unmount();
    counts.reset();
    runs.mockClear();

    act(() => {
      store.comment.upsert("c1", comment("c1", { body: "after unmount" }));
      store.comment.delete("c1");
    });
    expect(runs).not.toHaveBeenCalled();
    expect(counts.all()).toEqual({});
    expect(consoleErrors.logged).toEqual([]);
  });

  it("sees a write made between its render and its subscription", () => {
    const store = seededStore();
    renderStrict(
      <>
        <ValueComment store={store} id="c1" />
        <RunOnMount
          run={() =>
            store.comment.upsert("c1", comment("c1", { body: "written in a layout effect" }))
          }
        />
      </>,
    );
    expect(textOf("c1")).toBe("written in a layout effect");
  });

  it("re-renders for a collection returned as is, handing out a plain array copy", () => {
    const store = seededStore();
    let seen: unknown;
    function Whole() {
      const comments = useValue(() => store.comment, []);
      seen = comments;
      useCommitCounter("whole");
      return <p data-testid="whole">{comments.length}</p>;
    }
    renderStrict(<Whole />);
    expect(textOf("whole")).toBe("5");
    const first = seen;
    counts.reset();
    act(() => {
      store.comment.upsert("c6", comment("c6"));
    });
    expect(textOf("whole")).toBe("6");
    expect(counts.all()).toEqual({ whole: 1 });
    expect(seen).not.toBe(first);
    expect(Object.getPrototypeOf(seen)).toBe(Array.prototype);
  });

  it("throws an error of its function during render, not from the write", () => {
    const store = seededStore();
    const boundary = renderStrictInBoundary(<Fragile store={store} />);
    consoleErrors.silence();

    expect(() =>
      act(() => {
        store.comment.upsert("c1", comment("c1", { body: "boom" }));
      }),
    ).not.toThrow();
    expect(textOf("error")).toBe("cannot show boom");
    expect(boundary.errors).toHaveLength(1);
  });
});

describe("useEntity", () => {
  it("re-renders for its entity only, and shows deletes", () => {
    const store = seededStore();
    renderStrict(
      <>
        <EntityComment store={store} id="c1" />
        <ValueComment store={store} id="c2" />
      </>,
    );
    counts.reset();

    act(() => {
      store.comment.upsert("c2", comment("c2", { body: "other" }));
    });
    expect(counts.all()).toEqual({ c2: 1 });

    counts.reset();
    act(() => {
      store.comment.delete("c1");
    });
    expect(counts.all()).toEqual({ "entity:c1": 1 });
    expect(textOf("entity")).toBe("(none)");
  });

  it("shows an entity written after mounting (StrictMode subscribes twice)", () => {
    const store = seededStore();
    renderStrict(<EntityComment store={store} id="later" />);
    expect(textOf("entity")).toBe("(none)");
    counts.reset();

    act(() => {
      store.comment.upsert("later", comment("later", { body: "arrived" }));
    });
    expect(textOf("entity")).toBe("arrived");
    expect(counts.all()).toEqual({ "entity:later": 1 });
  });

  it("switches entity when the id changes, and accepts no id", () => {
    const store = seededStore();
    const { rerender } = renderStrict(<EntityComment store={store} id={undefined} />);
    expect(textOf("entity")).toBe("(none)");

    rerender(<EntityComment store={store} id="c2" />);
    expect(textOf("entity")).toBe("body of c2");
    rerender(<EntityComment store={store} id="c3" />);
    counts.reset();

    act(() => {
      store.comment.upsert("c2", comment("c2", { body: "not shown" }));
    });
    expect(counts.all()).toEqual({});
    act(() => {
      store.comment.upsert("c3", comment("c3", { body: "shown" }));
    });
    expect(counts.all()).toEqual({ "entity:c3": 1 });
    expect(textOf("entity")).toBe("shown");
  });
});

describe("useSignalValue", () => {
  it("renders any signal and re-renders when it changes", () => {
    const { unmount } = renderStrict(<Counter />);
    counts.reset();

    act(() => {
      count.value = 5;
    });
    expect(textOf("counter")).toBe("5");
    expect(counts.all()).toEqual({ counter: 1 });

    unmount();
    counts.reset();
    act(() => {
      count.value = 6;
    });
    expect(counts.all()).toEqual({});
    expect(consoleErrors.logged).toEqual([]);
  });
});

describe("useCollection", () => {
  it("shows every entity of its collection and re-renders for writes to it only", () => {
    const store = seededStore();
    const { unmount } = renderStrict(<AllReviews store={store} />);
    expect(textOf("reviews")).toBe("review r1");
    counts.reset();

    act(() => {
      store.comment.upsert("c1", comment("c1", { body: "a comment, not a review" }));
      store.comment.delete("c2");
    });
    expect(counts.all()).toEqual({});

    act(() => {
      store.review.upsert("r2", review("r2"));
    });
    expect(counts.all()).toEqual({ reviews: 1 });
    expect(textOf("reviews")).toBe("review r1,review r2");

    act(() => {
      store.review.delete("r1");
    });
    expect(counts.all()).toEqual({ reviews: 2 });
    expect(textOf("reviews")).toBe("review r2");

    unmount();
    counts.reset();
    act(() => {
      store.review.upsert("r3", review("r3"));
    });
    expect(counts.all()).toEqual({});
    expect(consoleErrors.logged).toEqual([]);
  });
});
