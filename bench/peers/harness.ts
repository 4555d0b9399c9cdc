// Timing and checking helpers shared by the peer benchmark and the core benchmark.
import { median } from "../results.js";
import {
  type Comment,
  idOf,
  LIMIT,
  makeComments,
  oracle,
  QUERIES,
  type System,
  updates,
} from "./workload.js";

const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error("Run with node --expose-gc.");
  collect();
  collect();
};

export function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

/** Runs `fn` `rounds` times (at least `min`, stopping once `budgetMs` is spent) and returns the median ms. */
export function medianMs(
  fn: () => void,
  rounds: number,
  budgetMs: number,
  min = 3,
  before?: () => void,
): number {
  const times: number[] = [];
  const start = performance.now();
  for (let r = 0; r < rounds; r++) {
    before?.();
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
    if (r + 1 >= min && performance.now() - start > budgetMs) break;
  }
  return median(times);
}

/** Precomputed one-entity updates (pure data, built outside the timed region). */
export function makeUpdates(
  rows: readonly Comment[],
  count: number,
  idRange: number,
  seed = 7,
): Comment[] {
  const byId = new Map(rows.map((c) => [c.id, c]));
  const next = updates(idRange, seed);
  const out: Comment[] = [];
  for (let i = 0; i < count; i++) {
    const c = next((id) => byId.get(id)!);
    byId.set(c.id, c);
    out.push(c);
  }
  return out;
}

/** Longest stream `perUpdateMicros` can consume: warm-up plus every round. */
export const MAX_STEPS = 20_000 + 9 * 5000;

/**
 * Times `step(update)` over a stream of updates: a warm-up of `warmupMs` (at most 20,000 steps,
 * at least 3), so that every system is timed at its steady state rather than while its code is
 * still being compiled; then rounds of `batch` steps (sized so a round takes ~20 ms), the median
 * per-step time of up to `rounds` rounds within `budgetMs`. Returns µs. A stream of `MAX_STEPS`
 * updates is never replayed, so no step re-sets an object a system already holds.
 */
export function perUpdateMicros(
  stream: readonly Comment[],
  step: (c: Comment) => void,
  options: { rounds?: number; budgetMs?: number; warmupMs?: number } = {},
): { micros: number; steps: number; total: number } {
  const { rounds = 9, budgetMs = 3000, warmupMs = 500 } = options;
  let k = 0;
  const next = (): Comment => stream[k++ % stream.length]!;
  const warmStart = performance.now();
  let warmed = 0;
  while (warmed < 3 || (warmed < 20_000 && performance.now() - warmStart < warmupMs)) {
    step(next());
    warmed++;
  }
  const estimate = (performance.now() - warmStart) / warmed;
  const batch = Math.max(1, Math.min(5000, Math.floor(20 / Math.max(estimate, 1e-4))));
  const times: number[] = [];
  let steps = 0;
  const start = performance.now();
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) step(next());
    times.push(((performance.now() - t0) * 1000) / batch);
    steps += batch;
    if (r >= 2 && performance.now() - start > budgetMs) break;
  }
  return { micros: median(times), steps, total: steps + warmed };
}

function same(label: string, actual: readonly string[], expected: readonly string[]): void {
  if (actual.length !== expected.length || actual.some((id, i) => id !== expected[i])) {
    throw new Error(
      `${label}: got ${actual.length} rows [${actual.slice(0, 5).join(",")}...], expected ${expected.length} [${expected.slice(0, 5).join(",")}...]`,
    );
  }
}

/** Checks a system against the naive oracle on a small collection before anything is timed. */
export function check(system: System, n = 3000): void {
  const rows = makeComments(n, 1);
  const model = new Map(rows.map((c) => [c.id, c]));
  system.load(rows);
  const limited = system.live(QUERIES, LIMIT);
  const full = system.live(QUERIES, undefined);
  const verify = (when: string) => {
    if (system.noQueries) return;
    QUERIES.forEach((spec, i) => {
      same(
        `${system.name} limit ${when} q${i}`,
        limited.ids(i),
        oracle(model.values(), spec, LIMIT),
      );
      same(`${system.name} full ${when} q${i}`, full.ids(i), oracle(model.values(), spec));
    });
  };
  verify("after load");
  const stream = makeUpdates(rows, 200, n, 3);
  stream.forEach((c, k) => {
    system.update(c);
    model.set(c.id, c);
    limited.read();
    full.read();
    if (k % 25 === 0 || k === stream.length - 1) verify(`after update ${k}`);
  });
  limited.stop();
  full.stop();
  same(
    `${system.name} cold`,
    system.cold(QUERIES[9]!).map(system.rowId),
    oracle(model.values(), QUERIES[9]!),
  );
  const ids = Array.from({ length: 100 }, (_, i) => idOf(i));
  const subs = system.subscribeEntities(ids);
  subs.takeRuns();
  for (const c of makeUpdates([...model.values()], 50, 100, 5)) {
    system.update(c);
    const runs = subs.takeRuns();
    if (runs !== 1)
      throw new Error(`${system.name}: ${runs} entity subscribers ran for one update`);
  }
  subs.stop();
  system.dispose();
}
