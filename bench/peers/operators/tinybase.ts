import { createIndexes, createQueries, createStore, type Row, type Store } from "tinybase";
import type { OperatorSystem, ThreadComment, ThreadReview } from "./workload.js";
import { idNumber, JOIN_BELOW, LIMIT, SHOWN_REVIEWS, TIE_BELOW, WINDOW } from "./workload.js";

const commentRow = (c: ThreadComment): Row => ({
  updatedAt: c.updatedAt,
  body: c.data.body,
  lineNumber: c.data.lineNumber,
  status: c.data.status,
  author: c.data.author,
  reviewId: c.data.reviewId ?? "",
});
const reviewRow = (r: ThreadReview): Row => ({
  updatedAt: r.updatedAt,
  title: r.data.title,
  state: r.data.state,
});
/** By line, ties by id, as one number (TinyBase sorts by one sort key). */
const lineKey = (line: number, rowId: string): number => line * 1e6 + idNumber(rowId);

/**
 * TinyBase: flat rows in two tables. Sorted views are Indexes (one slice, sorted by a key of line
 * and id); the join is a TinyQL query (`join('reviews', 'reviewId')`) read with
 * `getResultSortedRowIds(…, offset, limit)`; counts per review are the sizes of an Index's slices.
 */
export function tinybaseOperators(): OperatorSystem {
  let store: Store = createStore();
  return {
    name: "TinyBase",
    api: "Indexes for sorted views (`setIndexDefinition` with a slice function and a line-then-id sort key), read with `getSliceRowIds(…).slice(offset, offset + n)`; the join a TinyQL query `join('reviews', 'reviewId')` read with `getResultSortedRowIds(q, key, false, 0, 50)`; counts the slice sizes of an Index by `reviewId`; all with listeners",
    load(comments, reviews) {
      store = createStore();
      const table: Record<string, Row> = {};
      for (const c of comments) table[c.id] = commentRow(c);
      const reviewTable: Record<string, Row> = {};
      for (const r of reviews) reviewTable[r.id] = reviewRow(r);
      store.setTables({ comments: table, reviews: reviewTable });
    },
    updateComment: (c) => void store.setRow("comments", c.id, commentRow(c)),
    updateReview: (r) => void store.setRow("reviews", r.id, reviewRow(r)),
    ties(limit) {
      const indexes = createIndexes(store);
      TIE_BELOW.forEach((below, i) => {
        indexes.setIndexDefinition(
          `q${i}`,
          "comments",
          (getCell) =>
            getCell("status") === "open" && (getCell("lineNumber") as number) < below ? "in" : [],
          (getCell, rowId) => lineKey(getCell("lineNumber") as number, rowId),
        );
        indexes.addSliceRowIdsListener(`q${i}`, "in", () => {});
      });
      const ids = (i: number) => {
        const all = indexes.getSliceRowIds(`q${i}`, "in");
        return limit === undefined ? all : all.slice(0, limit);
      };
      return {
        read() {
          let total = 0;
          for (let i = 0; i < TIE_BELOW.length; i++)
            for (const id of ids(i))
              if (store.getRow("comments", id).updatedAt !== undefined) total++;
          return total;
        },
        answer: () => TIE_BELOW.flatMap((_, i) => ids(i)),
        stop: () => indexes.destroy(),
      };
    },
    window(offset) {
      const indexes = createIndexes(store);
      indexes.setIndexDefinition(
        "all",
        "comments",
        () => "in",
        (getCell, rowId) => lineKey(getCell("lineNumber") as number, rowId),
      );
      indexes.addSliceRowIdsListener("all", "in", () => {});
      let at = offset;
      const ids = () => indexes.getSliceRowIds("all", "in").slice(at, at + WINDOW);
      return {
        move(to) {
          at = to;
        },
        read() {
          let total = 0;
          for (const id of ids()) if (store.getCell("comments", id, "body") !== undefined) total++;
          return total;
        },
        ids,
        answer: ids,
        stop: () => indexes.destroy(),
      };
    },
    join() {
      const queries = createQueries(store);
      queries.setQueryDefinition("join", "comments", ({ select, join, where }) => {
        select("lineNumber");
        select("reviews", "title");
        select((getTableCell, rowId) => lineKey(getTableCell("lineNumber") as number, rowId)).as(
          "k",
        );
        join("reviews", "reviewId");
        where((getTableCell) => (getTableCell("lineNumber") as number) < JOIN_BELOW);
        // TinyQL joins are outer joins: keep matched comments only.
        where((getTableCell) => getTableCell("reviews", "title") !== undefined);
      });
      queries.addResultSortedRowIdsListener("join", "k", false, 0, LIMIT, () => {});
      const shown = () => queries.getResultSortedRowIds("join", "k", false, 0, LIMIT);
      return {
        read() {
          let total = 0;
          for (const id of shown())
            if (queries.getResultCell("join", id, "title") !== undefined) total++;
          return total;
        },
        answer: () => shown().map((id) => `${id}:${queries.getResultCell("join", id, "title")}`),
        stop: () => queries.destroy(),
      };
    },
    counts() {
      const indexes = createIndexes(store);
      indexes.setIndexDefinition("open", "comments", (getCell) =>
        getCell("status") === "open" ? (getCell("reviewId") as string) : [],
      );
      for (const id of SHOWN_REVIEWS) indexes.addSliceRowIdsListener("open", id, () => {});
      const answer = () => SHOWN_REVIEWS.map((id) => indexes.getSliceRowIds("open", id).length);
      return { read: () => answer().length, answer, stop: () => indexes.destroy() };
    },
    dispose() {
      store = createStore();
    },
  };
}
