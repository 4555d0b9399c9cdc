// What the peer adapters share: reading results as a UI would, and counting entity-subscriber
// runs. Each system uses them in the same shape (one call of its own result accessor per query
// read, `runs.count++` in each subscriber), and runs in a process of its own, so no system's hot
// loop goes through code that another system's objects have made polymorphic.
// (core.bench.ts runs Kalphite, then the signals baseline, in one process: the baseline's reads
// then run through code Kalphite's results went through too; they are a tiny part of its cost,
// a filter + sort of every entity per update.)
import type { EntitySubscriptions } from "./workload.js";

/**
 * Live results that are arrays of rows: `rowsOf(query)` is the system's own read of one result
 * (`q.value`, `q.get()`, `q.toArray`); `stops` end the subscriptions, in order. `read` reads every
 * row of every result, as a UI renders them, and returns the total row count; `answer` is every
 * result's ids, concatenated.
 */
export function arrayResults<Q, T extends { id: string }>(
  queries: readonly Q[],
  rowsOf: (query: Q) => readonly T[],
  stops: readonly (() => void)[],
) {
  const ids = (i: number): string[] => rowsOf(queries[i]!).map((row) => row.id);
  return {
    read(): number {
      let total = 0;
      for (const q of queries) {
        const rows = rowsOf(q);
        for (let i = 0; i < rows.length; i++) if (rows[i] !== undefined) total++;
      }
      return total;
    },
    results: (): (readonly T[])[] => queries.map(rowsOf),
    ids,
    answer: (): string[] => queries.flatMap((_, i) => ids(i)),
    stop() {
      for (const stop of stops) stop();
    },
  };
}

/**
 * A live window of comments (the operator workloads): `rowsOf()` is the system's own read of it,
 * `move` its own way of moving it. `read` reads every row shown (its body, as a UI renders it).
 */
export function windowRows<T extends { id: string; data: { body: string } }>(
  rowsOf: () => readonly T[],
  move: (offset: number) => void | Promise<void>,
  stop: () => void,
) {
  const ids = (): string[] => rowsOf().map((row) => row.id);
  return {
    move,
    read(): number {
      let total = 0;
      for (const row of rowsOf()) if (row.data.body !== undefined) total++;
      return total;
    },
    ids,
    answer: ids,
    stop,
  };
}

/** How many times a system's entity subscribers ran: each run does `runs.count++`. */
export interface Runs {
  count: number;
}

/**
 * Entity subscriptions: `subscribe(runs)` subscribes to each entity in the system's own way,
 * counting in `runs` each run a write causes, and returns how to stop each subscription.
 */
export function countedSubscriptions(
  subscribe: (runs: Runs) => readonly (() => void)[],
): EntitySubscriptions {
  const runs: Runs = { count: 0 };
  const stops = subscribe(runs);
  return {
    takeRuns() {
      const r = runs.count;
      runs.count = 0;
      return r;
    },
    stop() {
      for (const stop of stops) stop();
    },
  };
}
