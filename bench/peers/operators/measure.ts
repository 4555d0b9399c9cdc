// Checks one system's operator workloads against the naive answers, then times them.
import { median } from "../../results.js";
import { random } from "../workload.js";
import {
  LINES,
  makeThreads,
  type OperatorSystem,
  oracle,
  REVIEWS,
  reviewId,
  type ThreadComment,
  type ThreadReview,
  TIE_BELOW,
  WINDOW,
} from "./workload.js";

export interface OperatorResult {
  /** ms to create and subscribe the ten tie-heavy queries (limit 50). */
  tieSubscribeMs: number;
  tieLimitMicros: number;
  tieFullMicros: number;
  windowMoveMicros: number;
  windowUpdateMicros: number;
  joinCommentMicros: number;
  joinReviewMicros: number;
  countsMicros: number;
}

/** Settles a step that may be asynchronous (a window that moves in a microtask). */
async function settle(result: void | Promise<void>): Promise<void> {
  if (result instanceof Promise) await result;
}

/**
 * Times `step(k)` for k = 0, 1, ...: a warm-up of `warmupMs` (at least 3 steps), then rounds of
 * steps sized to ~20 ms, the median per-step time of up to 7 rounds within `budgetMs`. µs.
 */
export async function stepMicros(
  step: (k: number) => void | Promise<void>,
  { warmupMs = 300, budgetMs = 1500 } = {},
): Promise<number> {
  let k = 0;
  const warmStart = performance.now();
  // A step that takes more than SLOW ms (a system recomputing everything) is warmed once and
  // timed three times: more would not change the order of magnitude, and keeps a run bounded.
  const SLOW = 100;
  while (
    (k < 3 && performance.now() - warmStart < SLOW * k) ||
    k === 0 ||
    (k < 20_000 && performance.now() - warmStart < warmupMs)
  ) {
    await settle(step(k++));
  }
  const estimate = (performance.now() - warmStart) / k;
  const batch = Math.max(1, Math.min(5000, Math.floor(20 / Math.max(estimate, 1e-4))));
  const times: number[] = [];
  const start = performance.now();
  for (let round = 0; round < 7; round++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) await settle(step(k++));
    times.push(((performance.now() - t0) * 1000) / batch);
    if (round >= 2 && performance.now() - start > budgetMs) break;
  }
  return median(times);
}

/** The entities as the benchmark writes them, so that no write repeats an object. */
class Model {
  readonly comments: Map<string, ThreadComment>;
  readonly reviews: Map<string, ThreadReview>;
  readonly #rng = random(99);
  #clock = 2_000_000_000_000;

  constructor(comments: readonly ThreadComment[], reviews: readonly ThreadReview[]) {
    this.comments = new Map(comments.map((c) => [c.id, c]));
    this.reviews = new Map(reviews.map((r) => [r.id, r]));
  }

  /** The ids, fixed: the workloads update entities, they never add or remove any. */
  readonly #ids = new Map<Map<string, unknown>, string[]>();

  #pick<T>(values: Map<string, T>): T {
    let ids = this.#ids.get(values);
    if (ids === undefined) {
      ids = [...values.keys()];
      this.#ids.set(values, ids);
    }
    return values.get(ids[Math.floor(this.#rng() * ids.length)]!)!;
  }

  /** A comment with a new line and status: it moves between the tie-heavy queries. */
  moved(id?: string): ThreadComment {
    const c = id === undefined ? this.#pick(this.comments) : this.comments.get(id)!;
    return this.#set({
      ...c,
      updatedAt: ++this.#clock,
      data: {
        ...c.data,
        lineNumber: Math.floor(this.#rng() * LINES),
        status: this.#rng() < 0.5 ? "open" : "resolved",
      },
    });
  }

  /** A comment with a new body only: it keeps its place in every order. */
  edited(id: string): ThreadComment {
    const c = this.comments.get(id)!;
    return this.#set({
      ...c,
      updatedAt: ++this.#clock,
      data: { ...c.data, body: `edit ${this.#clock}` },
    });
  }

  /** A comment moved to another review. */
  regrouped(reviews: number): ThreadComment {
    const c = this.#pick(this.comments);
    const to = reviewId(Math.floor(this.#rng() * reviews));
    return this.#set({ ...c, updatedAt: ++this.#clock, data: { ...c.data, reviewId: to } });
  }

  retitled(): ThreadReview {
    const r = this.#pick(this.reviews);
    const next = {
      ...r,
      updatedAt: ++this.#clock,
      data: { ...r.data, title: `Review ${this.#clock}` },
    };
    this.reviews.set(next.id, next);
    return next;
  }

  #set(c: ThreadComment): ThreadComment {
    this.comments.set(c.id, c);
    return c;
  }

  /** `count` precomputed writes. */
  stream<T>(count: number, make: () => T): T[] {
    return Array.from({ length: count }, make);
  }
}

function same(label: string, actual: readonly unknown[], expected: readonly unknown[]): void {
  if (actual.length !== expected.length || actual.some((v, i) => v !== expected[i])) {
    throw new Error(
      `${label}: got ${actual.length} [${actual.slice(0, 4).join(",")}...], expected ${expected.length} [${expected.slice(0, 4).join(",")}...]`,
    );
  }
}

/** Checks every operator workload on a small instance against the naive answers. */
export async function checkOperators(system: OperatorSystem, n = 3000): Promise<void> {
  const reviews = 100;
  const data = makeThreads(n, reviews, 1);
  const model = new Model(data.comments, data.reviews);
  system.load(data.comments, data.reviews);
  const limited = system.ties(50);
  const full = system.ties(undefined);
  const window = await system.window(100);
  const join = system.join();
  const counts = system.counts();
  let offset = 100;
  const verify = async (when: string) => {
    const comments = model.comments.values.bind(model.comments);
    same(
      `${system.name} ties limit ${when}`,
      limited.answer(),
      TIE_BELOW.flatMap((b) => oracle.ties(comments(), b, 50)),
    );
    same(
      `${system.name} ties ${when}`,
      full.answer(),
      TIE_BELOW.flatMap((b) => oracle.ties(comments(), b)),
    );
    same(`${system.name} window ${when}`, window.answer(), oracle.window(comments(), offset));
    same(`${system.name} join ${when}`, join.answer(), oracle.join(comments(), model.reviews));
    same(`${system.name} counts ${when}`, counts.answer(), oracle.counts(comments()));
  };
  await verify("after load");
  for (let k = 0; k < 120; k++) {
    if (k % 4 === 0) system.updateComment(model.moved());
    if (k % 4 === 1) system.updateReview(model.retitled());
    if (k % 4 === 2) system.updateComment(model.regrouped(reviews));
    if (k % 4 === 3) {
      offset = (k * 37) % (n - WINDOW);
      await settle(window.move(offset));
      system.updateComment(model.edited(window.ids()[k % WINDOW]!));
    }
    if (k % 10 === 0 || k === 119) await verify(`after step ${k}`);
  }
  for (const live of [limited, full, window, join, counts]) live.stop();
  system.dispose();
}

/** Times every operator workload at `n` comments. */
export async function measureOperators(
  system: OperatorSystem,
  n: number,
  log: (line: string) => void,
  budget = { warmupMs: 300, budgetMs: 1500 },
): Promise<OperatorResult> {
  const data = makeThreads(n);
  const model = new Model(data.comments, data.reviews);
  const STREAM = 30_000;
  system.load(data.comments, data.reviews);

  const t0 = performance.now();
  const limited = system.ties(50);
  const tieSubscribeMs = performance.now() - t0;
  const tieStream = model.stream(STREAM, () => model.moved());
  const tieLimitMicros = await stepMicros((k) => {
    system.updateComment(tieStream[k % STREAM]!);
    limited.read();
  }, budget);
  limited.stop();
  log(
    `ties: subscribe ${tieSubscribeMs.toFixed(1)} ms; update + read (limit 50) ${tieLimitMicros.toFixed(2)} µs`,
  );
  const full = system.ties(undefined);
  const tieStream2 = model.stream(STREAM, () => model.moved());
  const tieFullMicros = await stepMicros((k) => {
    system.updateComment(tieStream2[k % STREAM]!);
    full.read();
  }, budget);
  full.stop();
  log(`ties: update + read (no limit) ${tieFullMicros.toFixed(1)} µs`);

  const rng = random(5);
  const window = await system.window(Math.floor(n / 2));
  const offsets = Array.from({ length: STREAM }, () => Math.floor(rng() * (n - WINDOW)));
  const windowMoveMicros = await stepMicros(async (k) => {
    await settle(window.move(offsets[k % STREAM]!));
    window.read();
  }, budget);
  await settle(window.move(Math.floor(n / 2)));
  const inside = window.ids();
  const edits = model.stream(STREAM, () =>
    model.edited(inside[Math.floor(rng() * inside.length)]!),
  );
  const windowUpdateMicros = await stepMicros((k) => {
    system.updateComment(edits[k % STREAM]!);
    window.read();
  }, budget);
  window.stop();
  log(
    `window: move + read ${windowMoveMicros.toFixed(2)} µs; update inside + read ${windowUpdateMicros.toFixed(2)} µs`,
  );

  const join = system.join();
  const joinComments = model.stream(STREAM, () => model.moved());
  const joinCommentMicros = await stepMicros((k) => {
    system.updateComment(joinComments[k % STREAM]!);
    join.read();
  }, budget);
  const titles = model.stream(STREAM, () => model.retitled());
  const joinReviewMicros = await stepMicros((k) => {
    system.updateReview(titles[k % STREAM]!);
    join.read();
  }, budget);
  join.stop();
  log(
    `join: update comment + read ${joinCommentMicros.toFixed(2)} µs; update review + read ${joinReviewMicros.toFixed(2)} µs`,
  );

  const counts = system.counts();
  const moves = model.stream(STREAM, () => model.regrouped(REVIEWS));
  const countsMicros = await stepMicros((k) => {
    system.updateComment(moves[k % STREAM]!);
    counts.read();
  }, budget);
  counts.stop();
  log(`counts per review: move a comment + read 10 counts ${countsMicros.toFixed(2)} µs`);
  system.dispose();
  return {
    tieSubscribeMs,
    tieLimitMicros,
    tieFullMicros,
    windowMoveMicros,
    windowUpdateMicros,
    joinCommentMicros,
    joinReviewMicros,
    countsMicros,
  };
}
