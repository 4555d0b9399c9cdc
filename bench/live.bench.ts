// The live-query benchmark of the operators and of tie-heavy sorts with short warm-ups, in one
// process: Kalphite against plain signals (a Map of @preact/signals-core signals and a naive
// computed per query). Writes the "live" section of bench/RESULTS.md.
// Run alone with: node --expose-gc --import tsx bench/live.bench.ts [N]
import { loadavg } from "node:os";
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
/** Steps run untimed between the short and the steady measurement. */
const STEADY = 5000;
const STREAM = WARMUP + TIMED + STEADY + TIMED;
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

/**
 * The CPU time of `fn` in ms (user + system of this process): on a machine shared with other
 * work, time spent waiting for a core is not the code's, and wall-clock A/B figures drift.
 */
function cpuMs(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

interface Timing {
  /** µs per step after `WARMUP` steps: a UI's short warm-up, not a hot loop (median of batches). */
  short: number;
  /** µs per step after `STEADY` more: the same code compiled (median of batches). */
  steady: number;
  /** The means over the same batches: what the medians leave out (GC pauses, compile jobs). */
  shortMean: number;
  steadyMean: number;
}

/** One side of a measurement: a step per element of its stream, timed in batches of `batch`. */
interface Side {
  stream: readonly ThreadComment[];
  step: (c: ThreadComment) => void;
  /** Called after each timed batch with its first and end step (for the copy baseline). */
  afterBatch?: (from: number, to: number, micros: number) => void;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * Times the sides in one run, their batches interleaved (A B, B A, ...) so that both see the
 * same machine: `WARMUP` untimed steps each, `TIMED` steps in batches (the short figure), `STEADY`
 * more untimed, then `TIMED` more (the steady figure), with a full GC before each timed phase.
 *
 * Why batches and medians: 1,000 steps timed as one span jump 2-4× between identical runs. A
 * young-generation GC with 100,000 entities in the heap takes 5-20 ms, and it lands in one span or
 * the next; process CPU time also counts the compiler's background threads, busy exactly during a
 * short warm-up. The median of 40 small batches leaves those out; the mean keeps them.
 */
function timed(sides: readonly Side[], batch: number): Timing[] {
  const at = sides.map(() => 0);
  const run = (s: number, count: number, timedPhase?: number[]) => {
    const side = sides[s]!;
    const from = at[s]!;
    const before = timedPhase ? process.cpuUsage() : undefined;
    for (let k = from; k < from + count; k++) side.step(side.stream[k]!);
    at[s] = from + count;
    if (before && timedPhase) {
      const used = process.cpuUsage(before);
      const micros = (used.user + used.system) / count;
      timedPhase.push(micros);
      side.afterBatch?.(from, from + count, micros);
    }
  };
  const phase = () => {
    gc!();
    const times = sides.map((): number[] => []);
    for (let b = 0; b < TIMED / batch; b++)
      for (let j = 0; j < sides.length; j++) {
        const s = (b + j) % sides.length;
        run(s, batch, times[s]);
      }
    return times;
  };
  for (let s = 0; s < sides.length; s++) run(s, WARMUP);
  const short = phase();
  for (let s = 0; s < sides.length; s++) run(s, STEADY);
  const steady = phase();
  return sides.map((_, s) => ({
    short: median(short[s]!),
    steady: median(steady[s]!),
    shortMean: mean(short[s]!),
    steadyMean: mean(steady[s]!),
  }));
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
    let stop = () => {};
    times.push(
      cpuMs(() => {
        stop = make();
      }),
    );
    stop();
  }
  return median(times);
}

console.log(
  `live: ${N.toLocaleString("en")} comments in 1,000 reviews, ${LINES.toLocaleString("en")} distinct lines`,
);
/** What changed for these workloads and what it bought (same machine, A/B). */
const NOTES = `What was changed for this workload, and what it bought (same machine, A/B in CPU time):
- A new subscription sorts 32-bit integer keys (line numbers, counters) without comparator calls: each (key, position) is packed into one double, the doubles are sorted natively, then each run of ties (about 20 rows here) is sorted by id. Creating and subscribing the ten queries: 115 → 60 ms of CPU; the sorts alone 105 → 55 ms.
- A read after one write that certainly changed the rows shown (no offset; one row entered, left, moved or was replaced) skips comparing the new rows with the last: a full read costs one copy instead of a copy and a comparison.
- The sorted index keeps a Fenwick tree over its chunk sizes: a position far down a result (for \`subscribeChanges\` and windows) costs O(log n) instead of a walk over every chunk before it.
- Two-part key paths (\`"data.lineNumber"\`) are read without a loop.
- The mark that an entity is the schema's own frozen copy (so the flush target and the database skip validating it again) is a non-enumerable symbol on the entity, not a WeakSet of every stored entity: the WeakSet's insert was the hottest line of an upsert, and its ephemeron table of the whole store was walked by every GC. \`upsert\` allocates no closure and no array per write.
- The sorted index's binary searches read a row only when the keys tie (each row is a likely cache miss), probe a flat array of each chunk's last key, and chunks are 128 rows (a splice of an old array of young rows pays a write barrier per moved slot): one write with the ten \`subscribeChanges\` queries 0.80-0.85× of before.
- A read joins the chunks' arrays with one native \`concat\` rather than copying row by row: a full read 0.78-0.84× of before.

How it is measured: a young-generation GC with 100,000 entities in the heap takes 5-20 ms, and process CPU time also counts V8's background compiler, busiest during a short warm-up; 1,000 updates timed as one span therefore jumped 2-4× between identical runs. Each figure is now the median of small batches, after a full GC, with the sides interleaved.

Where the time goes after a short warm-up: the code of a write (validation, the frozen copy, the index moves) still runs in V8's baseline tiers for the first few thousand updates, slower than compiled; the plain-signals baseline runs less code (no copy, one Map lookup instead of two) and warms sooner. A trace of V8's tiering (\`--trace-opt\`, 2026-12-04) shows the index's \`insert\` and \`remove\` compiled only after the 1,000 timed updates of the short phase (the query's \`_apply\` during it, or after), so that figure is the speed of baseline code. It also varies more between processes than within one: ten processes of a scratch copy of this bench's third phase (same code, same stream; not a run of this bench) gave 11.8–18.4 µs after 200 updates (median 14.2; 10.3 after 6,200), and neither inlining the numeric key comparison into the binary searches nor chunks of 32 or 64 rows instead of 128, nor shifting rows by hand instead of \`splice\`, moved the short or the steady figure beyond that spread: no change was kept.`;

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

// 2. One update with 10,000 entity subscriptions, after a short warm-up: both sides subscribed
// at once, their batches interleaved, from the same stream.
const ENTITY_BATCH = 25;
const entityStream = updateStream(STREAM, 10_000, 11);
const [entityKalphite, entityPlain] = (() => {
  const stops = Array.from({ length: 10_000 }, (_, i) => {
    const a = store.comment.signal(commentId(i));
    const b = plain.entities.get(commentId(i))!;
    return [
      effect(() => {
        a.value;
      }),
      effect(() => {
        b.value;
      }),
    ];
  }).flat();
  const micros = timed(
    [
      { stream: entityStream, step: (c) => store.comment.upsert(c.id, c) },
      { stream: entityStream, step: plain.write },
    ],
    ENTITY_BATCH,
  );
  for (const stop of stops) stop();
  return micros as [Timing, Timing];
})();
const both = (t: Timing) =>
  `${t.short.toFixed(2)} µs short, ${t.steady.toFixed(2)} µs steady (means ${t.shortMean.toFixed(2)}, ${t.steadyMean.toFixed(2)})`;
log(
  `update, 10,000 entity subscriptions: Kalphite ${both(entityKalphite)}; plain signals ${both(entityPlain)}`,
);

// 3. Notification only: 10 queries without limit, each with a subscribeChanges listener.
const changes = (() => {
  let count = 0;
  const stops = tieQueries(store).map((q) =>
    q.subscribeChanges(() => {
      count++;
    }),
  );
  const [micros] = timed(
    [{ stream: updateStream(STREAM, N, 12), step: (c) => store.comment.upsert(c.id, c) }],
    ENTITY_BATCH,
  );
  for (const stop of stops) stop();
  if (count === 0) throw new Error("no change reached the listeners");
  return micros!;
})();
log(`update, 10 queries without limit, subscribeChanges only: ${both(changes)}`);

// 4. Every result read in full after each update, against copying the results that changed
// (the least any system handing out fresh arrays pays): right after each timed batch, the
// arrays that batch read are copied and timed the same way, so both see the same machine.
const READ_BATCH = 5;
const { full, copy, rowsPerUpdate } = (() => {
  const queries = tieQueries(store);
  const stops = queries.map((q) => q.subscribe(() => {}));
  const last = queries.map((q) => q.value);
  let read: ThreadComment[][][] = [];
  const copies: { short: number[]; steady: number[] } = { short: [], steady: [] };
  let rows = 0;
  let sink = 0;
  const [timing] = timed(
    [
      {
        stream: updateStream(STREAM, N, 13),
        step: (c) => {
          store.comment.upsert(c.id, c);
          const changed: ThreadComment[][] = [];
          for (let i = 0; i < queries.length; i++) {
            const result = queries[i]!.value;
            if (result !== last[i]) changed.push(result);
            last[i] = result;
          }
          read.push(changed);
        },
        afterBatch: (from, to) => {
          const batch = read.slice(-(to - from));
          read = [];
          const ms = cpuMs(() => {
            for (const changed of batch)
              for (const result of changed) sink += result.slice().length;
          });
          const steady = from >= STREAM - TIMED;
          (steady ? copies.steady : copies.short).push((ms * 1000) / (to - from));
          if (steady)
            for (const changed of batch) for (const result of changed) rows += result.length;
        },
      },
    ],
    READ_BATCH,
  );
  for (const stop of stops) stop();
  if (sink < 0) console.log(sink);
  return {
    full: timing!,
    copy: { short: median(copies.short), steady: median(copies.steady) },
    rowsPerUpdate: rows / TIMED,
  };
})();
log(
  `update + read 10 results in full: ${both(full)}; copying what changed: ${copy.short.toFixed(1)} µs short, ${copy.steady.toFixed(1)} µs steady (${rowsPerUpdate.toFixed(0)} rows)`,
);

// 5. How a window's move grows with the size of the result: the same window of 50 moved to
// random offsets over 10,000 and over N rows (O(log n + 50): nearly flat).
const windowMove = (size: number): number => {
  const small = KalphiteStore(ThreadEntity);
  small.comment.upsertMany(comments.slice(0, size));
  const window = small.comment.live.orderBy("data.lineNumber").window(0, 50);
  const stop = window.subscribe(() => {});
  const rng = random(3);
  const offsets = Array.from({ length: 20_000 }, () => Math.floor(rng() * (size - 50)));
  let sink = 0;
  const move = (from: number, to: number) => {
    for (let k = from; k < to; k++) {
      window.moveTo(offsets[k]!);
      sink += window.value.length;
    }
  };
  move(0, 10_000);
  const micros = (cpuMs(() => move(10_000, 20_000)) * 1000) / 10_000;
  stop();
  if (sink < 0) console.log(sink);
  return micros;
};
const moves = { small: windowMove(10_000), large: windowMove(N) };
log(
  `window of 50 moved and read: ${moves.small.toFixed(2)} µs over 10,000 rows, ${moves.large.toFixed(2)} µs over ${N.toLocaleString("en")}`,
);

const fmt = (v: number, digits = 1) => (v >= 100 ? v.toFixed(0) : v.toFixed(digits));
const mark = (ok: boolean) => (ok ? "✅ met" : "❌ missed");
const pair = (t: Timing, digits = 2) => `${fmt(t.short, digits)} µs / ${fmt(t.steady, digits)} µs`;
const table = [
  `| workload | target | Kalphite: after ${WARMUP} / after ${(WARMUP + TIMED + STEADY).toLocaleString("en")} updates | plain signals | |`,
  "|---|---|---:|---:|---|",
  `| create + subscribe 10 tie-heavy queries | < 150 ms | ${fmt(setupKalphite)} ms | ${fmt(setupPlain)} ms (naive computeds) | ${mark(setupKalphite < 150)} |`,
  `| one \`upsert\`, 10,000 entity subscriptions | ≤ 2× plain signals | ${pair(entityKalphite)} = ${fmt(entityKalphite.short / entityPlain.short, 2)}× / ${fmt(entityKalphite.steady / entityPlain.steady, 2)}× | ${pair(entityPlain)} (a \`Map\` of signals, validated) | ${mark(entityKalphite.short <= 2 * entityPlain.short)} short, ${mark(entityKalphite.steady <= 2 * entityPlain.steady)} steady |`,
  `| one \`upsert\`, 10 queries without limit, \`subscribeChanges\` only | < 10 µs | ${pair(changes)} | — | ${mark(changes.short < 10)} short, ${mark(changes.steady < 10)} steady |`,
  `| one \`upsert\`, 10 results without limit read in full | ≤ 2× copying them (${fmt(copy.short)} µs / ${fmt(copy.steady)} µs, ${fmt(rowsPerUpdate, 0)} rows) | ${pair(full, 1)} = ${fmt(full.short / copy.short, 2)}× / ${fmt(full.steady / copy.steady, 2)}× copy | — | ${mark(full.short <= 2 * copy.short)} short, ${mark(full.steady <= 2 * copy.steady)} steady |`,
];
writeResults(
  "live",
  `## Live queries: tie-heavy sorts, short warm-ups

\`npm run bench -- live\` (\`bench/live.bench.ts\`): ${N.toLocaleString("en")} comments (validated by arktype) on ${LINES.toLocaleString("en")} distinct lines, 10 queries \`status === "open" && lineNumber < k\` (k = 250 … 2,500) ordered by \`lineNumber\`, ties broken by id; each update moves a comment to another line and status. Updates are timed twice in one process: over ${TIMED.toLocaleString("en")} updates after ${WARMUP} warm-up updates (a UI never runs a 500 ms hot loop), and over ${TIMED.toLocaleString("en")} more after ${STEADY.toLocaleString("en")} further ones (the code compiled), each phase after a full GC. Each figure is the median of batches (${ENTITY_BATCH} updates, ${READ_BATCH} for full reads) in the process's CPU time (user + system), not wall-clock: time spent waiting for a core is not the code's. Kalphite and plain signals run at once, their batches interleaved; the copy baseline is timed right after each batch of reads, copying the arrays that batch read. The mean of the same batches, which keeps the GC pauses and the compiler's background work a median leaves out, is printed by the run.

${table.join("\n")}

How a window's cost grows with the result: moving a window of 50 rows to a random offset and reading it costs ${fmt(moves.small, 2)} µs over 10,000 rows and ${fmt(moves.large, 2)} µs over ${N.toLocaleString("en")} (O(log n + 50): the chunk holding the offset is found through a Fenwick tree of chunk sizes, then 50 rows are copied; nothing is re-sorted).

${NOTES}

Load average at the end of the run: ${loadavg()[0]!.toFixed(1)} (2 cores); above 2, other work shared the machine and even CPU times vary by up to 2× between runs.`,
);
console.log("Wrote the live section of bench/RESULTS.md.");
