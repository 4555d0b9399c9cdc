// Legend-State and MobX have no query operators: each workload is a `computed` that filters,
// sorts, slices, looks up and counts from scratch, kept alive by a subscription (the idiomatic
// way in both). A window is a computed slice of a cached sorted computed, moved by an observable.
import { computed as legendComputed, observable as legendObservable } from "@legendapp/state";
import { computed, observable, reaction, runInAction } from "mobx";
import { arrayResults, windowRows } from "../shared.js";
import type { OperatorSystem, ThreadComment, ThreadReview } from "./workload.js";
import {
  byLine,
  JOIN_BELOW,
  LIMIT,
  SHOWN_REVIEWS,
  TIE_BELOW,
  tieMatches,
  WINDOW,
} from "./workload.js";

/** What both systems provide: a derived value that recomputes when what it read changes. */
interface Reactive {
  comments(): Iterable<ThreadComment>;
  review(id: string): ThreadReview | undefined;
  derive<T>(fn: () => T): { get(): T; stop(): void };
  box(initial: number): { get(): number; set(value: number): void };
}

function operators(name: string, api: string, make: () => Reactive & Writer): OperatorSystem {
  let state = make();
  const ties = (limit: number | undefined) => {
    const queries = TIE_BELOW.map((below) =>
      state.derive(() => {
        const rows: ThreadComment[] = [];
        for (const c of state.comments()) if (tieMatches(below, c)) rows.push(c);
        rows.sort(byLine);
        return limit === undefined ? rows : rows.slice(0, limit);
      }),
    );
    return arrayResults(
      queries,
      (q) => q.get(),
      queries.map((q) => q.stop),
    );
  };
  return {
    name,
    api,
    load(comments, reviews) {
      state = make();
      state.load(comments, reviews);
    },
    updateComment: (c) => state.setComment(c),
    updateReview: (r) => state.setReview(r),
    ties,
    window(offset) {
      const at = state.box(offset);
      const sorted = state.derive(() => [...state.comments()].sort(byLine));
      const window = state.derive(() => sorted.get().slice(at.get(), at.get() + WINDOW));
      return windowRows(
        () => window.get(),
        (to) => at.set(to),
        () => {
          window.stop();
          sorted.stop();
        },
      );
    },
    join() {
      const rows = state.derive(() => {
        const shown: ThreadComment[] = [];
        for (const c of state.comments()) {
          if (c.data.lineNumber < JOIN_BELOW && state.review(c.data.reviewId!) !== undefined)
            shown.push(c);
        }
        shown.sort(byLine);
        return shown
          .slice(0, LIMIT)
          .map((c) => ({ comment: c, review: state.review(c.data.reviewId!)! }));
      });
      return {
        read() {
          let total = 0;
          for (const row of rows.get()) if (row.review.data.title !== undefined) total++;
          return total;
        },
        answer: () => rows.get().map((row) => `${row.comment.id}:${row.review.data.title}`),
        stop: () => rows.stop(),
      };
    },
    counts() {
      const counts = state.derive(() => {
        const perReview = new Map<string, number>();
        for (const c of state.comments()) {
          if (c.data.status === "open")
            perReview.set(c.data.reviewId!, (perReview.get(c.data.reviewId!) ?? 0) + 1);
        }
        return perReview;
      });
      const answer = () => SHOWN_REVIEWS.map((id) => counts.get().get(id) ?? 0);
      return { read: () => answer().length, answer, stop: () => counts.stop() };
    },
    dispose() {
      state = make();
    },
  };
}

interface Writer {
  load(comments: readonly ThreadComment[], reviews: readonly ThreadReview[]): void;
  setComment(c: ThreadComment): void;
  setReview(r: ThreadReview): void;
}

/** MobX: `observable.map`s with `deep: false`; computeds kept alive by a `reaction`. */
export function mobxOperators(): OperatorSystem {
  return operators(
    "MobX",
    "`observable.map(…, { deep: false })` per type; each workload a `computed` (filter + sort + slice, lookups, counts) kept alive by a `reaction`; the window a computed slice of a sorted computed, moved by an `observable.box`",
    () => {
      let comments = observable.map<string, ThreadComment>(undefined, { deep: false });
      let reviews = observable.map<string, ThreadReview>(undefined, { deep: false });
      return {
        comments: () => comments.values(),
        review: (id) => reviews.get(id),
        derive<T>(fn: () => T) {
          const value = computed(fn);
          const stop = reaction(
            () => value.get(),
            () => {},
          );
          return { get: () => value.get(), stop };
        },
        box(initial) {
          const box = observable.box(initial);
          return { get: () => box.get(), set: (v) => runInAction(() => box.set(v)) };
        },
        load(commentRows, reviewRows) {
          comments = observable.map(undefined, { deep: false });
          reviews = observable.map(undefined, { deep: false });
          runInAction(() => {
            for (const c of commentRows) comments.set(c.id, c);
            for (const r of reviewRows) reviews.set(r.id, r);
          });
        },
        setComment: (c) => runInAction(() => comments.set(c.id, c)),
        setReview: (r) => runInAction(() => reviews.set(r.id, r)),
      };
    },
  );
}

/** Legend-State: one observable of both tables; computeds subscribed with `onChange`. */
export function legendOperators(): OperatorSystem {
  return operators(
    "Legend-State",
    "`observable({ comments, reviews })`, `state.comments[id].set()`; each workload a `computed` (filter + sort + slice, lookups, counts) subscribed with `onChange`; the window a computed slice of a sorted computed, moved by an observable",
    () => {
      let state = legendObservable({
        comments: {} as Record<string, ThreadComment>,
        reviews: {} as Record<string, ThreadReview>,
      });
      return {
        comments: () => Object.values(state.comments.get()),
        review: (id) => state.reviews[id]!.get(),
        derive<T>(fn: () => T) {
          const value = legendComputed(fn);
          const stop = value.onChange(() => {});
          value.get();
          return { get: () => value.get() as T, stop };
        },
        box(initial) {
          const box = legendObservable(initial);
          return { get: () => box.get(), set: (v) => box.set(v) };
        },
        load(commentRows, reviewRows) {
          const comments: Record<string, ThreadComment> = {};
          const reviews: Record<string, ThreadReview> = {};
          for (const c of commentRows) comments[c.id] = c;
          for (const r of reviewRows) reviews[r.id] = r;
          state = legendObservable({ comments, reviews });
        },
        setComment: (c) => state.comments[c.id]!.set(c),
        setReview: (r) => state.reviews[r.id]!.set(r),
      };
    },
  );
}
