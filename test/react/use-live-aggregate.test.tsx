// @vitest-environment happy-dom
import { act } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { LiveValue } from "../../src/index.js";
import { useSignalValue } from "../../src/react/index.js";
import { comment } from "../fixtures/schema.js";
import { renderStrict, seededStore, setupReactTests, textOf } from "./harness.js";

const { counts, consoleErrors, useCommitCounter } = setupReactTests();

function OpenOnLine({ line }: { line: LiveValue<{ readonly open: number } | undefined> }) {
  const value = useSignalValue(line);
  useCommitCounter("badge");
  return <span data-testid="badge">{value?.open ?? 0}</span>;
}

describe("aggregates in React", () => {
  it("a badge of one group's count re-renders only when that group's count changes", () => {
    const store = seededStore();
    const perLine = store.comment.live
      .where((c) => c.data.status === "open")
      .groupBy("data.lineNumber")
      .aggregate(({ count }) => ({ open: count() }));
    renderStrict(<OpenOnLine line={perLine.group(2)} />);
    expect(textOf("badge")).toBe("1");
    counts.reset();

    act(() => {
      store.comment.upsert("c1", comment("c1", { lineNumber: 1, body: "another line" }));
      store.comment.upsert("c2", comment("c2", { lineNumber: 2, body: "same count" }));
    });
    expect(counts.all()).toEqual({});

    act(() => {
      store.comment.upsert("c9", comment("c9", { lineNumber: 2 }));
    });
    expect(counts.all()).toEqual({ badge: 1 });
    expect(textOf("badge")).toBe("2");
    expect(consoleErrors.logged).toEqual([]);
  });
});
