// @vitest-environment happy-dom
import { act } from "@testing-library/react";
import { memo } from "react";
import { describe, expect, it } from "vitest";
import { useLiveGroups } from "../../src/react/index.js";
import { type Comment, comment } from "../fixtures/schema.js";
import { renderStrict, seededStore, setupReactTests, type TestStore, textOf } from "./harness.js";

const { counts, consoleErrors, useCommitCounter } = setupReactTests();

/** The comments by status, newest line first; each column memoized on its rows. */
function Board({ store }: { store: TestStore | null }) {
  const groups = useLiveGroups(
    () => store?.comment.live.orderBy("data.lineNumber", "desc").groupBy("data.status"),
    [store],
  );
  useCommitCounter("board");
  return (
    <>
      <Column name="open" rows={groups.open} />
      <Column name="resolved" rows={groups.resolved} />
    </>
  );
}

const Column = memo(function Column({
  name,
  rows,
}: {
  name: string;
  rows?: readonly Comment[] | undefined;
}) {
  useCommitCounter(name);
  return <p data-testid={name}>{(rows ?? []).map((c) => c.id).join(",")}</p>;
});

describe("useLiveGroups", () => {
  it("shows each group in the query's order and re-renders only the group that changed", () => {
    const store = seededStore();
    renderStrict(<Board store={store} />);
    expect(textOf("open")).toBe("c3,c2,c1");
    expect(textOf("resolved")).toBe("c5,c4");
    counts.reset();

    act(() => {
      store.comment.upsert("c1", comment("c1", { lineNumber: 9 }));
    });
    expect(textOf("open")).toBe("c1,c3,c2");
    // The resolved group kept its array, so its memoized column did not render.
    expect(counts.all()).toEqual({ board: 1, open: 1 });

    counts.reset();
    act(() => {
      store.comment.upsert("c2", comment("c2", { lineNumber: 2, status: "resolved" }));
      store.review.upsert("r1", { ...store.review.findById("r1")!, updatedAt: 5 });
    });
    expect(textOf("open")).toBe("c1,c3");
    expect(textOf("resolved")).toBe("c5,c4,c2");
    expect(counts.all()).toEqual({ board: 1, open: 1, resolved: 1 });
    expect(consoleErrors.logged).toEqual([]);
  });

  it("gives no groups for no query, and stops updating once unmounted", () => {
    const store = seededStore();
    const view = renderStrict(<Board store={null} />);
    expect(textOf("open")).toBe("");
    view.rerender(<Board store={store} />);
    expect(textOf("open")).toBe("c3,c2,c1");
    view.unmount();
    counts.reset();
    act(() => {
      store.comment.upsert("c1", comment("c1", { lineNumber: 9 }));
    });
    expect(counts.all()).toEqual({});
  });
});
