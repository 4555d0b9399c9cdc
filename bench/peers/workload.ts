// The workload every system runs: seeded comment-shaped entities, ten queries, a stream of updates,
// and the naive oracle each adapter is checked against before it is timed.
import type { Comment } from "../../test/fixtures/schema.js";
import { seededRandom } from "../../test/sync/sim/random.js";

export type { Comment };

/** A seeded PRNG (mulberry32, the simulation's own): the same data in every process. */
export const random = seededRandom;

/** Line numbers are uniform in [0, LINES); query i keeps lineNumber < (i + 1) * 100. */
export const LINES = 2000;
export const QUERY_COUNT = 10;
export const LIMIT = 50;
const BASE_TIME = 1_700_000_000_000;

export function idOf(i: number): string {
  return `c${i.toString().padStart(6, "0")}`;
}

/**
 * `n` comments. `updatedAt` values are distinct (a shuffled range), so every ordering is total and
 * every system must return exactly the same rows in the same order.
 */
export function makeComments(n: number, seed = 42): Comment[] {
  const rng = random(seed);
  const times = new Array<number>(n);
  for (let i = 0; i < n; i++) times[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = times[i]!;
    times[i] = times[j]!;
    times[j] = t;
  }
  const rows = new Array<Comment>(n);
  for (let i = 0; i < n; i++) {
    rows[i] = {
      id: idOf(i),
      type: "comment",
      updatedAt: BASE_TIME + times[i]! * 1000,
      data: {
        body: flat(`Comment ${i}: consider extracting this into a helper.`),
        lineNumber: Math.floor(rng() * LINES),
        status: rng() < 0.5 ? "open" : "resolved",
      },
    };
  }
  return rows;
}

/**
 * The string as one flat sequence, as strings are when parsed from JSON or read from an input. A
 * template literal builds a tree of pieces (a V8 cons string) that a system reading the contents
 * (Kalphite checks every string can be stored) would flatten, paying memory a real app does not.
 */
function flat(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}

/** A query: `data.lineNumber < below`, ordered by `updatedAt` (descending for even i). */
export interface QuerySpec {
  below: number;
  descending: boolean;
}

/** The ten queries: from 5% to 50% of the collection, half newest-first, half oldest-first. */
export const QUERIES: readonly QuerySpec[] = Array.from({ length: QUERY_COUNT }, (_, i) => ({
  below: (i + 1) * (LINES / 20),
  descending: i % 2 === 0,
}));

export function matches(spec: QuerySpec, c: Comment): boolean {
  return c.data.lineNumber < spec.below;
}

export function compareRows(spec: QuerySpec): (a: Comment, b: Comment) => number {
  return spec.descending
    ? (a, b) => b.updatedAt - a.updatedAt
    : (a, b) => a.updatedAt - b.updatedAt;
}

/**
 * Sorts the rows that match `spec` (in place) in the query's order and cuts them to `limit`: the
 * end of every filter + sort from scratch (the oracle, and the systems without query operators).
 */
export function sortAndCut(rows: Comment[], spec: QuerySpec, limit?: number): Comment[] {
  rows.sort(compareRows(spec));
  return limit === undefined ? rows : rows.slice(0, limit);
}

/** The naive answer: filter everything, sort, cut. */
export function oracle(rows: Iterable<Comment>, spec: QuerySpec, limit?: number): string[] {
  const out: Comment[] = [];
  for (const c of rows) if (matches(spec, c)) out.push(c);
  return sortAndCut(out, spec, limit).map((c) => c.id);
}

/**
 * A stream of one-entity updates: entity `index` gets a new `updatedAt` (later than any before, so it
 * moves to the top of newest-first queries) and a new line number (so it moves in and out of
 * queries). `next(current)` returns the new entity.
 */
export function updates(n: number, seed = 7): (current: (id: string) => Comment) => Comment {
  const rng = random(seed);
  let clock = BASE_TIME + n * 1000;
  return (current) => {
    const id = idOf(Math.floor(rng() * n));
    const before = current(id);
    clock += 1000;
    return {
      id,
      type: "comment",
      updatedAt: clock,
      data: {
        body: before.data.body,
        lineNumber: Math.floor(rng() * LINES),
        status: before.data.status,
      },
    };
  };
}

/** The systems compared. Each lives in its own process; see bench/peers/systems/. */
export interface LiveSet {
  /** Reads every row of every query (as the UI would) and returns the total row count. */
  read(): number;
  /** The current result arrays, where the system hands out arrays (used by the core benchmark). */
  results?(): readonly (readonly unknown[])[];
  /** The ids of query `i`, in order, for the correctness check. */
  ids(i: number): string[];
  stop(): void;
}

export interface EntitySubscriptions {
  /** How many times subscribers ran since the last call. */
  takeRuns(): number;
  stop(): void;
}

export interface System {
  readonly name: string;
  /** A note on how the system is used, for RESULTS.md. */
  readonly api: string;
  /** True for the floor, which keeps no queries (its `live` reads nothing). */
  readonly noQueries?: boolean;
  /** Creates a fresh store holding `rows` (the store may keep or copy them). */
  load(rows: readonly Comment[]): void;
  /** Writes one whole entity (an existing id). */
  update(entity: Comment): void;
  /** The current entity (for building updates). */
  get(id: string): Comment;
  /** Creates the queries with an optional limit and subscribes to each. */
  live(specs: readonly QuerySpec[], limit: number | undefined): LiveSet;
  /** One subscription per id, each to that entity only. */
  subscribeEntities(ids: readonly string[]): EntitySubscriptions;
  /** The first read of a filtered, sorted view (no subscription, nothing cached): its rows. */
  cold(spec: QuerySpec): readonly unknown[];
  /** The id of a row `cold` returned. */
  rowId(row: unknown): string;
  /** Drops the store. */
  dispose(): void;
}
