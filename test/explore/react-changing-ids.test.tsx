// @vitest-environment happy-dom
import { act, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { KalphiteStore } from "../../src/index.js";
import { useEntity, useLiveWindow } from "../../src/react/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { renderStrict, setupReactTests } from "../react/harness.js";

setupReactTests();
type Store = ReturnType<typeof KalphiteStore<typeof Entity>>;

function Body({ store, id }: { store: Store; id: string | null }) {
  const c = useEntity(store.comment, id);
  return <p data-testid="body">{c ? c.data.body : "none"}</p>;
}

function Page({ store, count }: { store: Store; count: number }) {
  const { rows, total, offset, moveTo } = useLiveWindow(
    () => store.comment.live.orderBy("data.lineNumber"),
    { count },
  );
  return (
    <div>
      <p data-testid="rows">{`${offset}/${total}:${rows.map((c) => c.id).join(",")}`}</p>
      <button type="button" onClick={() => moveTo(offset + 1)}>
        next
      </button>
    </div>
  );
}

describe("hooks whose arguments change", () => {
  it("useEntity follows a new id, null, and a deleted then re-created entity", () => {
    const store = KalphiteStore(Entity);
    store.comment.upsert("a", comment("a", { body: "A" }));
    store.comment.upsert("b", comment("b", { body: "B" }));
    const view = renderStrict(<Body store={store} id="a" />);
    expect(screen.getByTestId("body").textContent).toBe("A");
    view.rerender(<Body store={store} id="b" />);
    expect(screen.getByTestId("body").textContent).toBe("B");
    act(() => store.comment.upsert("a", comment("a", { body: "A2" })));
    expect(screen.getByTestId("body").textContent).toBe("B");
    act(() => {
      store.comment.delete("b");
    });
    expect(screen.getByTestId("body").textContent).toBe("none");
    act(() => {
      store.comment.upsert("b", comment("b", { body: "B again" }));
    });
    expect(screen.getByTestId("body").textContent).toBe("B again");
    view.rerender(<Body store={store} id={null} />);
    expect(screen.getByTestId("body").textContent).toBe("none");
  });

  it("useLiveWindow follows a new count, moves, and rows removed before it", () => {
    const store = KalphiteStore(Entity);
    for (let i = 0; i < 6; i++) store.comment.upsert(`c${i}`, comment(`c${i}`, { lineNumber: i }));
    const view = renderStrict(<Page store={store} count={2} />);
    expect(screen.getByTestId("rows").textContent).toBe("0/6:c0,c1");
    act(() => screen.getByText("next").click());
    expect(screen.getByTestId("rows").textContent).toBe("1/6:c1,c2");
    view.rerender(<Page store={store} count={3} />);
    expect(screen.getByTestId("rows").textContent).toBe("1/6:c1,c2,c3");
    act(() => {
      store.comment.delete("c0");
    });
    expect(screen.getByTestId("rows").textContent).toBe("1/5:c2,c3,c4");
    act(() => {
      store.comment.deleteMany(["c1", "c2", "c3", "c4", "c5"]);
    });
    expect(screen.getByTestId("rows").textContent).toBe("1/0:");
  });
});
