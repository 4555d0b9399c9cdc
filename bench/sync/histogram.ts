// A latency histogram that processes can merge: 0.1 ms buckets up to 100 ms, 1 ms up to 10 s.

const FINE = 1_000; // 0..100 ms by 0.1 ms
const COARSE = 9_900; // 100 ms..10 s by 1 ms
export const BUCKETS = FINE + COARSE + 1;

/** An empty histogram. */
export function histogram(): number[] {
  return new Array<number>(BUCKETS).fill(0);
}

/** Records one latency in ms. */
export function record(h: number[], ms: number): void {
  const value = Math.max(0, ms);
  const index =
    value < 100 ? Math.floor(value * 10) : Math.min(BUCKETS - 1, FINE + Math.floor(value - 100));
  h[index] = (h[index] ?? 0) + 1;
}

/** Adds `b` into `a`. */
export function merge(a: number[], b: readonly number[]): void {
  for (let i = 0; i < BUCKETS; i++) a[i] = (a[i] ?? 0) + (b[i] ?? 0);
}

/** The number of samples. */
export function count(h: readonly number[]): number {
  return h.reduce((n, v) => n + v, 0);
}

/** The p-th percentile (0..100) in ms (the bucket's upper edge); NaN when empty. */
export function quantile(h: readonly number[], p: number): number {
  const total = count(h);
  if (total === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += h[i] ?? 0;
    if (seen >= rank) return i < FINE ? (i + 1) / 10 : 100 + (i - FINE + 1);
  }
  return Number.POSITIVE_INFINITY;
}
