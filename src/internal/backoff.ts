/** How a retry waits longer after each failure. */
export interface Backoff {
  /** The first wait, in ms (attempt 0). */
  base: number;
  /** The longest wait, in ms. @default Infinity */
  max?: number;
  /** The random share of each wait: 0.5 waits between half of it and all of it. */
  jitter: number;
}

/**
 * The wait before retry `attempt` (0-based): `base * 2^attempt`, at most `max`, of which a
 * `jitter` share is random, so that clients that failed together do not all retry at the same
 * instant. One formula for every layer that retries (flush, the PostgreSQL listener, ...).
 *
 * @internal
 * @example backoffDelay(2, { base: 100, jitter: 0.5 }) // between 200 and 400
 */
export function backoffDelay(
  attempt: number,
  { base, max = Number.POSITIVE_INFINITY, jitter }: Backoff,
  random: () => number = Math.random,
): number {
  // The exponent is capped: 2^1024 is Infinity, and 0 * Infinity (base 0) is NaN.
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return ceiling * (1 - jitter * random());
}
