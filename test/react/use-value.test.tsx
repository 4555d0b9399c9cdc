// @vitest-environment happy-dom
import { signal } from "@preact/signals-core";
import { act, cleanup, render, screen } from "@testing-library/react";
import { StrictMode, useLayoutEffect } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useEntity, useSignalValue, useValue } from "../../src/react/index.js";
import { comment } from "../fixtures/schema.js";
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

function ValueComment({ store, id }: { store: TestStore; id: string }) {
  const found = useValue(() => store.comment.findById(id), [id]);
  useCommitCounter(counts, id);
  return <p data-testid={id}>{found?.data.body ?? "(none)"}</p>;
}

function EntityComment({ store, id }: { store: TestStore; id: string | undefined }) {
  const found = useEntity(store.comment, id);
  useCommitCounter(counts, `entity:${id}`);
  return <p data-testid="entity">{found?.data.body ?? "(none)"}</p>;
}

function OpenCount({ store }: { store: TestStore }) {
  const open = useValue(() => store.comment.where((c) => c.data.status === "open").length, []);
  useCommitCounter(counts, "count");
  return <p data-testid="count">{open}</p>;
}

function Resolved({ store }: { store: TestStore }) {
  const rows = useValue(() => store.comment.where((c) => c.data.status === "resolved"), []);
  useCommitCounter(counts, "resolved");
  return <p data-testid="resolved">{rows.map((c) => c.id).join(",")}</p>;
}

/** Reads a comment's body without deps: a new function on every render. */
function BodyWithoutDeps({ store, id, runs }: { store: TestStore; id: string; runs: () => void }) {
  const body = useValue(() => {
    runs();
    return store.comment.findById(id)?.data.body;
  });
  useCommitCounter(counts, "body");
  return <p data-testid="body">{body}</p>;
}

function Tracked({ store, runs }: { store: TestStore; runs: () => void }) {
  const found = useValue(() => {
    runs();
    return store.comment.findById("c1");
  }, []);
  useCommitCounter(counts, "tracked");
  return <p>{found?.data.body}</p>;
}

function WritesOnMount({ store }: { store: TestStore }) {
  useLayoutEffect(() => {
    store.comment.upsert("c1", comment("c1", { body: "written in a layout effect" }));
  }, [store]);
  return null;
}

function Fragile({ store }: { store: TestStore }) {
  const body = useValue(() => {
    const found = store.comment.findById("c1");
    if (found?.data.body === "boom") throw new Error("cannot show boom");
    return found?.data.body;
  }, [store]);
  return <p>{body}</p>;
}

const count = signal(0);

function Counter() {
  const value = useSignalValue(count);
  useCommitCounter(counts, "counter");
  return <p data-testid="counter">{value}</p>;
}

describe("useValue", () => {
  it("re-renders only the component showing the edited comment", () => {
    const store = seededStore();
    render(
      <StrictMode>
        <ValueComment store={store} id="c1" />
        <ValueComment store={store} id="c2" />
        <ValueComment store={store} id="c3" />
      </StrictMode>,
    );
    counts.reset();

    act(() => {
      store.comment.upsert("c2", comment("c2", { body: "edited" }));
    });
    expect(counts.all()).toEqual({ c2: 1 });
    expect(screen.getByTestId("c2").textContent).toBe("edited");
    expect(screen.getByTestId("c1").textContent).toBe("body of c1");

    counts.reset();
    act(() => {
      store.comment.upsert("c9", comment("c9"));
      store.review.upsert("r1", { ...store.review.findById("r1")!, updatedAt: 2 });
      store.comment.delete("c5");
    });
    expect(counts.all()).toEqual({});
    expect(errors).not.toHaveBeenCalled();
  });

  it("re-renders once for a batch of writes", () => {
    const store = seededStore();
    render(
      <StrictMode>
        <ValueComment store={store} id="c1" />
        <ValueComment store={store} id="c2" />
      </StrictMode>,
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
    expect(screen.getByTestId("c1").textContent).toBe("two");
  });

  it("re-renders only when the derived value changes", () => {
    const store = seededStore();
    render(
      <StrictMode>
        <OpenCount store={store} />
        <Resolved store={store} />
      </StrictMode>,
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
    expect(screen.getByTestId("count").textContent).toBe("2");
    expect(screen.getByTestId("resolved").textContent).toBe("c1,c4,c5");
  });

  it("follows a new id when the deps change", () => {
    const store = seededStore();
    const { rerender } = render(
      <StrictMode>
        <ValueComment store={store} id="c1" />
      </StrictMode>,
    );
    rerender(
      <StrictMode>
        <ValueComment store={store} id="c2" />
      </StrictMode>,
    );
    expect(screen.getByTestId("c2").textContent).toBe("body of c2");
    counts.reset();

    act(() => {
      store.comment.upsert("c1", comment("c1", { body: "old id" }));
    });
    expect(counts.all()).toEqual({});

    act(() => {
      store.comment.upsert("c2", comment("c2", { body: "new id" }));
    });
    expect(counts.all()).toEqual({ c2: 1 });
    expect(screen.getByTestId("c2").textContent).toBe("new id");
  });

  it("takes a new function on every render when there are no deps", () => {
    const store = seededStore();
    const runs = vi.fn();
    const { rerender } = render(
      <StrictMode>
        <BodyWithoutDeps store={store} id="c1" runs={runs} />
      </StrictMode>,
    );
    rerender(
      <StrictMode>
        <BodyWithoutDeps store={store} id="c3" runs={runs} />
      </StrictMode>,
    );
    expect(screen.getByTestId("body").textContent).toBe("body of c3");
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
    expect(screen.getByTestId("body").textContent).toBe("y");
    expect(counts.all()).toEqual({ body: 1 });
  });

  it("stops tracking on unmount: later writes run nothing and warn nothing", () => {
    const store = seededStore();
    const runs = vi.fn();
    const { unmount } = render(
      <StrictMode>
        <Tracked store={store} runs={runs} />
      </StrictMode>,
    );
    unmount();
    counts.reset();
    runs.mockClear();

    act(() => {
      store.comment.upsert("c1", comment("c1", { body: "after unmount" }));
      store.comment.delete("c1");
    });
    expect(runs).not.toHaveBeenCalled();
    expect(counts.all()).toEqual({});
    expect(errors).not.toHaveBeenCalled();
  });

  it("sees a write made between its render and its subscription", () => {
    const store = seededStore();
    render(
      <StrictMode>
        <ValueComment store={store} id="c1" />
        <WritesOnMount store={store} />
      </StrictMode>,
    );
    expect(screen.getByTestId("c1").textContent).toBe("written in a layout effect");
  });

  it("throws an error of its function during render, not from the write", () => {
    const store = seededStore();
    const caught = vi.fn();
    render(
      <StrictMode>
        <ErrorBoundary onError={caught}>
          <Fragile store={store} />
        </ErrorBoundary>
      </StrictMode>,
    );
    errors.mockImplementation(() => {});

    expect(() =>
      act(() => {
        store.comment.upsert("c1", comment("c1", { body: "boom" }));
      }),
    ).not.toThrow();
    expect(screen.getByTestId("error").textContent).toBe("cannot show boom");
    expect(caught).toHaveBeenCalledTimes(1);
  });
});

describe("useEntity", () => {
  it("re-renders for its entity only, and shows deletes", () => {
    const store = seededStore();
    render(
      <StrictMode>
        <EntityComment store={store} id="c1" />
        <ValueComment store={store} id="c2" />
      </StrictMode>,
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
    expect(screen.getByTestId("entity").textContent).toBe("(none)");
  });

  it("shows an entity written after mounting (StrictMode subscribes twice)", () => {
    const store = seededStore();
    render(
      <StrictMode>
        <EntityComment store={store} id="later" />
      </StrictMode>,
    );
    expect(screen.getByTestId("entity").textContent).toBe("(none)");
    counts.reset();

    act(() => {
      store.comment.upsert("later", comment("later", { body: "arrived" }));
    });
    expect(screen.getByTestId("entity").textContent).toBe("arrived");
    expect(counts.all()).toEqual({ "entity:later": 1 });
  });

  it("switches entity when the id changes, and accepts no id", () => {
    const store = seededStore();
    const { rerender } = render(
      <StrictMode>
        <EntityComment store={store} id={undefined} />
      </StrictMode>,
    );
    expect(screen.getByTestId("entity").textContent).toBe("(none)");

    rerender(
      <StrictMode>
        <EntityComment store={store} id="c2" />
      </StrictMode>,
    );
    expect(screen.getByTestId("entity").textContent).toBe("body of c2");
    rerender(
      <StrictMode>
        <EntityComment store={store} id="c3" />
      </StrictMode>,
    );
    counts.reset();

    act(() => {
      store.comment.upsert("c2", comment("c2", { body: "not shown" }));
    });
    expect(counts.all()).toEqual({});
    act(() => {
      store.comment.upsert("c3", comment("c3", { body: "shown" }));
    });
    expect(counts.all()).toEqual({ "entity:c3": 1 });
    expect(screen.getByTestId("entity").textContent).toBe("shown");
  });
});

describe("useSignalValue", () => {
  it("renders any signal and re-renders when it changes", () => {
    const { unmount } = render(
      <StrictMode>
        <Counter />
      </StrictMode>,
    );
    counts.reset();

    act(() => {
      count.value = 5;
    });
    expect(screen.getByTestId("counter").textContent).toBe("5");
    expect(counts.all()).toEqual({ counter: 1 });

    unmount();
    counts.reset();
    act(() => {
      count.value = 6;
    });
    expect(counts.all()).toEqual({});
    expect(errors).not.toHaveBeenCalled();
  });
});
