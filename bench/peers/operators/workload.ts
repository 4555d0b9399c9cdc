// The workloads of the live-query operators beyond where/orderBy/limit: a tie-heavy sort, a
// movable window, a comment ⋈ review join and counts per group. Every system runs the same
// seeded data and is checked against the naive answers below before it is timed.
import type { ThreadComment, ThreadReview } from "../../../test/core/support/threads.js";
import { random } from "../workload.js";

export type { ThreadComment, ThreadReview };

/** 5,000 distinct line numbers: about 20 comments share each one at 100,000 (a tie-heavy sort). */
export const LINES = 5000;
export const REVIEWS = 1000;
export const LIMIT = 50;
export const WINDOW = 50;
/** The join shows comments on lines below this (10% of them), each with its review. */
export const JOIN_BELOW = 500;
/** The review ids whose counts a UI shows (10 badges). */
export const SHOWN_REVIEWS = Array.from({ length: 10 }, (_, i) => reviewId(i * 7));
/** Ten tie-heavy queries: open comments on lines below 250, 500, ... 2,500, by line then id. */
export const TIE_BELOW = Array.from({ length: 10 }, (_, i) => (i + 1) * (LINES / 20));

export function commentId(i: number): string {
  return `c${i.toString().padStart(6, "0")}`;
}

export function reviewId(i: number): string {
  return `r${i.toString().padStart(4, "0")}`;
}

/** The number of a comment id (for systems whose sort keys must be numbers). */
export function idNumber(id: string): number {
  return Number(id.slice(1));
}

const flat = (text: string): string => JSON.parse(JSON.stringify(text)) as string;

export function makeThreads(n: number, reviews = REVIEWS, seed = 42) {
  const rng = random(seed);
  const comments: ThreadComment[] = [];
  for (let i = 0; i < n; i++) {
    comments.push({
      id: commentId(i),
      type: "comment",
      updatedAt: 1_700_000_000_000 + i,
      data: {
        body: flat(`Comment ${i}`),
        lineNumber: Math.floor(rng() * LINES),
        status: rng() < 0.5 ? "open" : "resolved",
        author: flat(`author${i % 100}`),
        reviewId: reviewId(Math.floor(rng() * reviews)),
      },
    });
  }
  const reviewRows: ThreadReview[] = [];
  for (let i = 0; i < reviews; i++) {
    reviewRows.push({
      id: reviewId(i),
      type: "review",
      updatedAt: 1,
      data: { title: flat(`Review ${i}`), state: "open" },
    });
  }
  return { comments, reviews: reviewRows };
}

/** Comments by line, ties by id: the order of the tie-heavy queries, the window and the join. */
export function byLine(a: ThreadComment, b: ThreadComment): number {
  return a.data.lineNumber - b.data.lineNumber || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export const tieMatches = (below: number, c: ThreadComment): boolean =>
  c.data.status === "open" && c.data.lineNumber < below;

/** The naive answers. */
export const oracle = {
  ties(comments: Iterable<ThreadComment>, below: number, limit?: number): string[] {
    const rows = [...comments].filter((c) => tieMatches(below, c)).sort(byLine);
    return (limit === undefined ? rows : rows.slice(0, limit)).map((c) => c.id);
  },
  window(comments: Iterable<ThreadComment>, offset: number): string[] {
    return [...comments]
      .sort(byLine)
      .slice(offset, offset + WINDOW)
      .map((c) => c.id);
  },
  join(comments: Iterable<ThreadComment>, reviews: Map<string, ThreadReview>): string[] {
    return [...comments]
      .filter((c) => c.data.lineNumber < JOIN_BELOW && reviews.has(c.data.reviewId!))
      .sort(byLine)
      .slice(0, LIMIT)
      .map((c) => `${c.id}:${reviews.get(c.data.reviewId!)!.data.title}`);
  },
  counts(comments: Iterable<ThreadComment>): number[] {
    const counts = new Map<string, number>();
    for (const c of comments) {
      if (c.data.status === "open")
        counts.set(c.data.reviewId!, (counts.get(c.data.reviewId!) ?? 0) + 1);
    }
    return SHOWN_REVIEWS.map((id) => counts.get(id) ?? 0);
  },
};

/** A set of live results one workload keeps; `read` reads every row shown, as a UI would. */
export interface Live {
  read(): number;
  /** What the oracle computes, for the check. */
  answer(): string[] | number[];
  stop(): void;
}

export interface LiveWindowHandle extends Live {
  /** Moves the window; a system whose move settles asynchronously returns a promise. */
  move(offset: number): void | Promise<void>;
  /** The ids shown now. */
  ids(): string[];
}

/** One system's implementation of the operator workloads. */
export interface OperatorSystem {
  readonly name: string;
  readonly api: string;
  load(comments: readonly ThreadComment[], reviews: readonly ThreadReview[]): void;
  updateComment(c: ThreadComment): void;
  updateReview(r: ThreadReview): void;
  /** The ten tie-heavy queries, subscribed; `answer` is their ids concatenated. */
  ties(limit: number | undefined): Live;
  /** The window of WINDOW rows over every comment by line, at `offset`, subscribed. */
  window(offset: number): LiveWindowHandle | Promise<LiveWindowHandle>;
  /** Comments on lines below JOIN_BELOW ⋈ their review, by line, first LIMIT; `answer`: "id:title". */
  join(): Live;
  /** Open comments per review, subscribed; `answer`: the counts of SHOWN_REVIEWS. */
  counts(): Live;
  dispose(): void;
}
