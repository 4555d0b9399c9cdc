/**
 * Time and randomness, injected into everything that schedules (the flush engine, the
 * PostgreSQL listener, ...) so that tests drive them instead of sleeping. The shape is the sync
 * engine's `SyncClock` plus `random`, so one clock serves every layer.
 *
 * @example
 * // The platform's timers with jitter fixed at its middle:
 * const clock: Clock = {
 *   now: () => Date.now(),
 *   setTimeout: (fn, ms) => setTimeout(fn, ms),
 *   clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
 *   random: () => 0.5,
 * };
 * new MemoryFlushEngine({ flushTarget, clock });
 */
export interface Clock {
  /** Milliseconds since the epoch, like `Date.now()`. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer from `setTimeout`; ignores a handle that already ran or is undefined. */
  clearTimeout(handle: unknown): void;
  /** A number in [0, 1), like `Math.random()` (backoff jitter). */
  random(): number;
}

/**
 * The platform's timers, `Date.now` and `Math.random`, each looked up when called (so fake
 * timers installed later, e.g. by a test framework, still apply).
 * @internal
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  random: () => Math.random(),
};

/**
 * Lets a timer of the system clock not keep a Node process alive (`unref`); a no-op for other
 * clocks' handles and in browsers.
 * @internal
 */
export function unrefTimer(handle: unknown): void {
  (handle as { unref?: () => void } | undefined)?.unref?.();
}
