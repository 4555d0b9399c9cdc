// Runs every workload on one system, in this process, and prints one JSON line of results.
// Usage: node --expose-gc --import tsx bench/peers/child.ts <system> [N]

import { type GuaranteeCosts, guaranteeCosts } from "./guarantees.js";
import { check, heapUsed, MAX_STEPS, makeUpdates, medianMs, perUpdateMicros } from "./harness.js";
import type { OperatorResult } from "./operators/measure.js";
import { systems } from "./systems/index.js";
import { type Comment, idOf, LIMIT, makeComments, QUERIES } from "./workload.js";

export interface PeerResult {
  /** The name child.ts was started with. */
  key?: string;
  system: string;
  api: string;
  n: number;
  /** ms to load N entities, by N. */
  load: Record<string, number>;
  /** Bytes per entity: everything retained, and beyond the plain entity objects. */
  bytesPerEntity: number;
  overheadPerEntity: number;
  /** ms to create and subscribe the 10 queries (with limit). */
  subscribeMs: number;
  /** µs per one-entity update followed by reading all 10 results. */
  updateLimitMicros: number;
  updateFullMicros: number;
  /** µs per update with 10,000 entity subscriptions; subscriber runs per update (must be 1). */
  entityMicros: number;
  entityRunsPerUpdate: number;
  /** ms for the first read of a filtered, sorted view over N. */
  coldMs: number;
  /** Kalphite only: what its guarantees cost alone (measured in a process of their own). */
  guarantees?: GuaranteeCosts | undefined;
  /** The operator workloads (bench/peers/operators), for systems that have them. */
  operators?: OperatorResult | undefined;
  /** When, where and under what load the figures were measured (set by run.ts). */
  measured?: string;
  operatorsMeasured?: string;
}

const name = process.argv[2] ?? "kalphite";
const N = Number(process.argv[3] ?? 100_000);
/** Quick mode (for iteration): shorter warm-ups and budgets. */
const quick = process.argv[4] === "quick";
const timing = quick ? { warmupMs: 100, budgetMs: 500 } : {};
if (name === "guarantees") {
  console.log(JSON.stringify(guaranteeCosts(makeComments(N))));
  process.exit(0);
}
const make = systems[name];
if (!make) throw new Error(`Unknown system ${name}; one of ${Object.keys(systems).join(", ")}`);
const system = make();
const log = (line: string) => process.stderr.write(`  ${system.name}: ${line}\n`);

check(system);
log("correct on the 3,000-entity check");

const load: Record<string, number> = {};
for (const n of [10_000, N]) {
  const rows = makeComments(n);
  // Loads until 500 ms are spent (at least one) before timing, so that every system is timed
  // with its code compiled, as in a running app.
  const warmStart = performance.now();
  do {
    system.load(rows);
    system.dispose();
  } while (performance.now() - warmStart < (quick ? 100 : 500));
  load[n] = medianMs(
    () => system.load(rows),
    n > 10_000 ? 5 : 9,
    n > 10_000 ? 8000 : 3000,
    3,
    () => {
      system.dispose();
      heapUsed();
    },
  );
  log(`load ${n}: ${load[n]!.toFixed(1)} ms`);
}
system.dispose();

// Memory: the entity objects alone, then the store holding them with the input dropped.
let bytesPerEntity = 0;
let overheadPerEntity = 0;
{
  const m0 = heapUsed();
  let rows: Comment[] | undefined = makeComments(N);
  const m1 = heapUsed();
  system.load(rows);
  rows = undefined;
  const m2 = heapUsed();
  bytesPerEntity = (m2 - m0) / N;
  overheadPerEntity = (m2 - m1) / N;
  log(
    `memory: ${bytesPerEntity.toFixed(0)} B/entity, ${overheadPerEntity.toFixed(0)} B beyond the entities`,
  );
  system.dispose();
}

const rows = makeComments(N);
const stream = makeUpdates(rows, MAX_STEPS, N);

/**
 * Creates and subscribes the 10 queries (timed: ms), then times one update followed by reading
 * every result (µs per update).
 */
function updateAndRead(limit: number | undefined): { subscribeMs: number; micros: number } {
  const t0 = performance.now();
  const set = system.live(QUERIES, limit);
  const subscribeMs = performance.now() - t0;
  const r = perUpdateMicros(
    stream,
    (c) => {
      system.update(c);
      set.read();
    },
    timing,
  );
  set.stop();
  const what =
    limit === undefined
      ? "update+read (no limit)"
      : `subscribe 10 queries: ${subscribeMs.toFixed(1)} ms; update+read (limit)`;
  log(`${what}: ${r.micros.toFixed(2)} µs over ${r.steps}`);
  return { subscribeMs, micros: r.micros };
}

system.load(rows);
const limited = updateAndRead(LIMIT);
const subscribeMs = limited.subscribeMs;
const updateLimitMicros = limited.micros;
const updateFullMicros = updateAndRead(undefined).micros;
system.dispose();

let entityMicros = 0;
let entityRunsPerUpdate = 0;

system.load(rows);
{
  const ids = Array.from({ length: 10_000 }, (_, i) => idOf(i));
  const subs = system.subscribeEntities(ids);
  subs.takeRuns();
  const subStream = makeUpdates(rows, MAX_STEPS, 10_000, 11);
  const r = perUpdateMicros(subStream, (c) => system.update(c), timing);
  const runs = subs.takeRuns();
  entityMicros = r.micros;
  // Every timed and warm-up update targets a subscribed entity: exactly one run each.
  entityRunsPerUpdate = runs / r.total;
  subs.stop();
  log(
    `10,000 entity subscriptions: ${r.micros.toFixed(2)} µs per update, ${entityRunsPerUpdate} runs per update`,
  );
}
system.dispose();

system.load(rows);
const coldMs = medianMs(() => system.cold(QUERIES[9]!), 5, 4000, 1);
log(`cold filtered sorted view: ${coldMs.toFixed(1)} ms`);
system.dispose();

const result: PeerResult = {
  key: name,
  system: system.name,
  api: system.api,
  n: N,
  load,
  bytesPerEntity,
  overheadPerEntity,
  subscribeMs,
  updateLimitMicros,
  updateFullMicros,
  entityMicros,
  entityRunsPerUpdate,
  coldMs,
};
console.log(JSON.stringify(result));
