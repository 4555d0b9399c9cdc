// @vitest-environment happy-dom
import { act } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { KalphiteStore } from "../../src/index.js";
import { type LiveWindowState, useLiveWindow } from "../../src/react/index.js";
import { type Comment, comment, Entity } from "../fixtures/schema.js";
import { renderStrict, setupReactTests, textOf } from "./harness.js";

const { counts, consoleErrors, useCommitCounter } = setupReactTests();
const name = (i: number) => `c${String(i).padStart(4, "0")}`;

/** 1,000 comments on lines 0..999. */
function storeOfLines() {
  const store = KalphiteStore(Entity);
  store.comment.upsertMany(
    Array.from({ length: 1000 }, (_, i) => comment(name(i), { lineNumber: i })),
  );
  return store;
}
type TestStore = ReturnType<typeof storeOfLines>;

/** A virtualized list of 5 rows; `handle` receives the hook's state to scroll from the test. */
function Visible({
  store,
  count = 5,
  handle,
  predicate,
}: {
  store: TestStore;
  count?: number;
  handle: { current?: LiveWindowState<Comment> };
  predicate?: () => void;
}) {
  const state = useLiveWindow(
    () =>
      store.comment.live
        .where(() => {
          predicate?.();
          return true;
        })
        .orderBy("data.lineNumber"),
    { count, offset: 10 },
  );
  handle.current = state;
  useCommitCounter("list");
  return (
    <p data-testid="list">
      {state.offset}/{state.total}: {state.rows.map((c) => c.id).join(",")}
    </p>
  );
}

describe("useLiveWindow", () => {
  it("shows the window, re-renders once per scroll and only for rows it shows", () => {
    const store = storeOfLines();
    const handle: { current?: LiveWindowState<Comment> } = {};
    renderStrict(<Visible store={store} handle={handle} />);
    expect(textOf("list")).toBe(`10/1000: ${[10, 11, 12, 13, 14].map(name).join(",")}`);
    counts.reset();

    act(() => handle.current!.moveTo(500));
    expect(counts.all()).toEqual({ list: 1 });
    expect(textOf("list")).toBe(`500/1000: ${[500, 501, 502, 503, 504].map(name).join(",")}`);

    counts.reset();
    act(() => {
      // Outside the window: after it, and a move among the rows before it.
      store.comment.upsert(name(900), comment(name(900), { lineNumber: 900, body: "edited" }));
      store.comment.upsert(name(3), comment(name(3), { lineNumber: 4 }));
      handle.current!.moveTo(500); // where it already is
    });
    expect(counts.all()).toEqual({});

    act(() => {
      store.comment.upsert(name(502), comment(name(502), { lineNumber: 502, body: "seen" }));
    });
    expect(counts.all()).toEqual({ list: 1 });

    counts.reset();
    act(() => {
      // Deleting a row before the window shifts it and changes the total: one render.
      store.comment.delete(name(0));
    });
    expect(counts.all()).toEqual({ list: 1 });
    expect(textOf("list")).toBe(`500/999: ${[501, 502, 503, 504, 505].map(name).join(",")}`);
    expect(consoleErrors.logged).toEqual([]);
  });

  it("shows the offset of a move that leaves the rows shown unchanged", () => {
    const store = KalphiteStore(Entity);
    store.comment.upsertMany([
      comment(name(0), { lineNumber: 0 }),
      comment(name(1), { lineNumber: 1 }),
    ]);
    const handle: { current?: LiveWindowState<Comment> } = {};
    renderStrict(<Visible store={store} handle={handle} />);
    // Starts at 10, past the two rows.
    expect(textOf("list")).toBe("10/2: ");
    counts.reset();

    act(() => handle.current!.moveTo(3));
    expect(textOf("list")).toBe("3/2: ");
    expect(handle.current!.offset).toBe(3);
    expect(counts.all()).toEqual({ list: 1 });

    counts.reset();
    act(() => handle.current!.moveTo(4));
    expect(textOf("list")).toBe("4/2: ");
    expect(counts.all()).toEqual({ list: 1 });

    // Back onto the rows: the rows and the offset change in one render.
    counts.reset();
    act(() => handle.current!.moveTo(1));
    expect(textOf("list")).toBe(`1/2: ${name(1)}`);
    expect(counts.all()).toEqual({ list: 1 });

    // Where it already is: nothing changed, nothing renders.
    counts.reset();
    act(() => handle.current!.moveTo(1));
    expect(counts.all()).toEqual({});
    expect(consoleErrors.logged).toEqual([]);
  });

  it("resizes when count changes, and lets go of the query on unmount", () => {
    const store = storeOfLines();
    const handle: { current?: LiveWindowState<Comment> } = {};
    const predicate = vi.fn();
    const { rerender, unmount } = renderStrict(
      <Visible store={store} handle={handle} predicate={predicate} />,
    );
    rerender(<Visible store={store} handle={handle} predicate={predicate} count={2} />);
    expect(textOf("list")).toBe(`10/1000: ${name(10)},${name(11)}`);
    unmount();
    predicate.mockClear();
    store.comment.upsert(name(1), comment(name(1), { lineNumber: 1, body: "after" }));
    expect(predicate).not.toHaveBeenCalled();
  });
});
