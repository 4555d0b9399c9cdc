// The live-query benchmark of the operators and of tie-heavy sorts with short warm-ups, in one
// process: Kalphite against plain signals (a Map of @preact/signals-core signals and a naive
// computed per query). Writes the "live" section of bench/RESULTS.md.
// Run alone with: node --expose-gc --import tsx bench/live.bench.ts [N]
import { computed, effect, type Signal, signal } from "@preact/signals-core";
import { KalphiteStore } from "../src/index.js";
import { ThreadEntity } from "../test/core/support/threads.js";
import { heapUsed } from "./peers/harness.js";
import {
  byLine,
  commentId,
  LINES,
  makeThreads,
  type ThreadComment,
  TIE_BELOW,
  tieMatches,
} from "./peers/operators/workload.js";
import { random } from "./peers/workload.js";
import { median, writeResults } from "./results.js";

const N = Number(process.argv[2] ?? 100_000);
const WARMUP = 200;
const TIMED = 1000;
const { comments, reviews } = makeThreads(N);
const log = (line: string) => console.log(`  ${line}`);
const validate = ThreadEntity["~standard"].validate;

/** A stream of updates (new line and status), never repeating an object. */
function updateStream(count: number, idRange: number, seed: number): ThreadComment[] {
  const rng = random(seed);
  const current = new Map(comments.map((c) => [c.id, c]));
  return Array.from({ length: count }, (_, k) => {
    const c = current.get(commentId(Math.floor(rng() * idRange)))!;
    const next: ThreadComment = {
      ...c,
      updatedAt: c.updatedAt + 1_000_000 + k,
      data: {
        ...c.data,
        lineNumber: Math.floor(rng() * LINES),
        status: rng() < 0.5 ? "open" : "resolved",
      },
    };
    current.set(c.id, next);
    return next;
  });
}

/** µs per step over `TIMED` steps after `WARMUP` steps: a UI's short warm-up, not a hot loop. */
function shortWarm(stream: readonly ThreadComment[], step: (c: ThreadComment) => void): number {
  for (let k = 0; k < WARMUP; k++) step(stream[k]!);
  const t0 = performance.now();
  for (let k = WARMUP; k < WARMUP + TIMED; k++) step(stream[k]!);
  return ((performance.now() - t0) * 1000) / TIMED;
}

function kalphiteStore() {
  const store = KalphiteStore(ThreadEntity);
  store.review.upsertMany(reviews);
  store.comment.upsertMany(comments);
  return store;
}

const tieQueries = (store: ReturnType<typeof kalphiteStore>) =>
  TIE_BELOW.map((below) =>
    store.comment.live
      .where((c) => c.data.status === "open" && c.data.lineNumber < below)
      .orderBy("data.lineNumber"),
  );

/** The plain-signals baseline: a Map of signals, a version signal, a naive computed per query. */
function plainSignals() {
  const entities = new Map<string, Signal<ThreadComment>>();
  const version = signal(0);
  for (const c of comments) entities.set(c.id, signal(c));
  const write = (c: ThreadComment) => {
    const result = validate(c);
    if (result instanceof Promise || result.issues) throw new Error("invalid");
    entities.get(c.id)!.value = result.value as ThreadComment;
    version.value++;
  };
  const queries = () =>
    TIE_BELOW.map((below) =>
      computed(() => {
        version.value;
        const rows: ThreadComment[] = [];
        for (const s of entities.values()) if (tieMatches(below, s.peek())) rows.push(s.peek());
        return rows.sort(byLine);
      }),
    );
  return { entities, write, queries };
}

function setupMs(make: () => () => void, rounds = 5): number {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    heapUsed();
    const t0 = performance.now();
    const stop = make();
    times.push(performance.now() - t0);
    stop();
  }
  return median(times);
}

console.log(
  `live: ${N.toLocaleString("en")} comments in 1,000 reviews, ${LINES.toLocaleString("en")} distinct lines`,
);
const store = kalphiteStore();
const plain = plainSignals();

// 1. Create and subscribe the ten tie-heavy queries.
const setupKalphite = setupMs(() => {
  const stops = tieQueries(store).map((q) => q.subscribe(() => {}));
  return () => {
    for (const stop of stops) stop();
  };
});
const setupPlain = setupMs(() => {
  const stops = plain.queries().map((q) => q.subscribe(() => {}));
  return () => {
    for (const stop of stops) stop();
  };
}, 3);
log(
  `create + subscribe 10 tie-heavy queries: Kalphite ${setupKalphite.toFixed(1)} ms, naive computeds ${setupPlain.toFixed(1)} ms`,
);

// 2. One update with 10,000 entity subscriptions, after a short warm-up.
const entityStream = updateStream(WARMUP + TIMED, 10_000, 11);
const entityKalphite = (() => {
  const stops = Array.from({ length: 10_000 }, (_, i) => {
    const s = store.comment.signal(commentId(i));
    return effect(() => {
      s.value;
    });
  });
  const micros = shortWarm(entityStream, (c) => store.comment.upsert(c.id, c));
  for (const stop of stops) stop();
  return micros;
})();
const entityPlain = (() => {
  const stops = Array.from({ length: 10_000 }, (_, i) => {
    const s = plain.entities.get(commentId(i))!;
    return effect(() => {
      s.value;
    });
  });
  const micros = shortWarm(entityStream, plain.write);
  for (const stop of stops) stop();
  return micros;
})();
log(
  `update, 10,000 entity subscriptions, after ${WARMUP} warm-up updates: Kalphite ${entityKalphite.toFixed(2)} µs, plain signals ${entityPlain.toFixed(2)} µs`,
);

// 3. Notification only: 10 queries without limit, each with a subscribeChanges listener.
const changesMicros = (() => {
  let changes = 0;
  const stops = tieQueries(store).map((q) => q.subscribeChanges(() => changes++));
  const micros = shortWarm(updateStream(WARMUP + TIMED, N, 12), (c) =>
    store.comment.upsert(c.id, c),
  );
  for (const stop of stops) stop();
  return micros;
})();
log(`update, 10 queries without limit, subscribeChanges only: ${changesMicros.toFixed(2)} µs`);

// 4. Every result read in full after each update, against copying the results that changed.
const { fullMicros, copyMicros, rowsPerUpdate } = (() => {
  const queries = tieQueries(store);
  const stops = queries.map((q) => q.subscribe(() => {}));
  const stream = updateStream(WARMUP + TIMED, N, 13);
  const changedSizes: number[] = [];
  let last = queries.map((q) => q.value);
  const full = shortWarm(stream, (c) => {
    store.comment.upsert(c.id, c);
    for (let i = 0; i < queries.length; i++) {
      const rows = queries[i]!.value;
      if (rows !== last[i]) changedSizes.push(rows.length);
      last[i] = rows;
    }
  });
  for (const stop of stops) stop();
  last = [];
  // Copying arrays of the sizes that changed, per update (the least any system handing out
  // fresh arrays pays); the sizes of the timed steps only.
  const timedSizes = changedSizes.slice(
    Math.round((changedSizes.length * WARMUP) / (WARMUP + TIMED)),
  );
  const source = new Array<ThreadComment>(N).fill(comments[0]!);
  const times: number[] = [];
  let sink = 0;
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for (const size of timedSizes) sink += source.slice(0, size).length;
    times.push(((performance.now() - t0) * 1000) / TIMED);
  }
  if (sink < 0) console.log(sink);
  return {
    fullMicros: full,
    copyMicros: median(times),
    rowsPerUpdate: timedSizes.reduce((a, b) => a + b, 0) / TIMED,
  };
})();
log(
  `update + read 10 results in full: ${fullMicros.toFixed(1)} µs; copying what changed: ${copyMicros.toFixed(1)} µs (${rowsPerUpdate.toFixed(0)} rows)`,
);

const fmt = (v: number, digits = 1) => (v >= 100 ? v.toFixed(0) : v.toFixed(digits));
const mark = (ok: boolean) => (ok ? "✅ met" : "❌ missed");
const table = [
  "| workload (short warm-ups) | target | Kalphite | plain signals | |",
  "|---|---|---:|---:|---|",
  `| create + subscribe 10 tie-heavy queries | < 150 ms | ${fmt(setupKalphite)} ms | ${fmt(setupPlain)} ms (naive computeds) | ${mark(setupKalphite < 150)} |`,
  `| one \`upsert\`, 10,000 entity subscriptions, after ${WARMUP} warm-up updates | ≤ 2× plain signals | ${fmt(entityKalphite, 2)} µs = ${fmt(entityKalphite / entityPlain, 2)}× | ${fmt(entityPlain, 2)} µs (a \`Map\` of signals, validated) | ${mark(entityKalphite <= 2 * entityPlain)} |`,
  `| one \`upsert\`, 10 queries without limit, \`subscribeChanges\` only | < 10 µs | ${fmt(changesMicros, 2)} µs | — | ${mark(changesMicros < 10)} |`,
  `| one \`upsert\`, 10 results without limit read in full | ≤ 2× copying them | ${fmt(fullMicros)} µs = ${fmt(fullMicros / copyMicros, 2)}× copy (${fmt(copyMicros)} µs, ${fmt(rowsPerUpdate, 0)} rows) | — | ${mark(fullMicros <= 2 * copyMicros)} |`,
];
writeResults(
  "live",
  `## Live queries: tie-heavy sorts, short warm-ups

\`npm run bench -- live\` (\`bench/live.bench.ts\`): ${N.toLocaleString("en")} comments (validated by arktype) on ${LINES.toLocaleString("en")} distinct lines, 10 queries \`status === "open" && lineNumber < k\` (k = 250 … 2,500) ordered by \`lineNumber\`, ties broken by id; each update moves a comment to another line and status. Updates are timed over ${TIMED.toLocaleString("en")} steps after ${WARMUP} warm-up steps (a UI never runs a 500 ms hot loop), in one process.

${table.join("\n")}`,
);
console.log("Wrote the live section of bench/RESULTS.md.");
