/**
 * The wait before retry `attempt` (0-based): `base * 2^attempt`, of which a `jitter` share is
 * random, so clients that failed together do not all retry at the same instant.
 *
 * @example retryDelay(100, 2, 0.5) // between 200 and 400
 * @internal
 */
export function retryDelay(
  base: number,
  attempt: number,
  jitter: number,
  random: () => number = Math.random,
): number {
  const ceiling = base * 2 ** attempt;
  return ceiling * (1 - jitter * random());
}
