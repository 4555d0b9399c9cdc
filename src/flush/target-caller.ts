import { KalphitePersistenceError } from "../core/index.js";
import type { Clock } from "../internal/clock.js";
import type { FlushChange, FlushTarget } from "./types.js";

/**
 * Calls a flush target, one call at a time, with a deadline. A call that misses it counts as
 * failed, and no other call starts until it settles: a late write must never land after a
 * newer one. Every failure is a `KalphitePersistenceError`.
 * @internal
 */
export class TargetCaller {
  readonly #target: FlushTarget;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  /** A call that timed out and has not settled yet; no other call starts before it does. */
  #stuck: Promise<void> | undefined;

  constructor(target: FlushTarget, timeoutMs: number, clock: Clock) {
    this.#target = target;
    this.#timeoutMs = timeoutMs;
    this.#clock = clock;
  }

  /** Writes `changes`; resolves once the target did, rejects when it failed or took too long. */
  async call(changes: FlushChange[]): Promise<void> {
    if (this.#stuck) {
      throw new KalphitePersistenceError(
        `The previous flush target call has not settled after ${this.#timeoutMs} ms, so nothing newer is written (it could land after it). Check that the flushTarget's promise settles; the changes stay queued.`,
      );
    }
    const call = Promise.resolve().then(() => this.#target(changes));
    let timer: unknown;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.#clock.setTimeout(() => {
        const settled = () => {
          this.#stuck = undefined;
        };
        this.#stuck = call.then(settled, settled);
        reject(
          new KalphitePersistenceError(
            `The flush target did not settle within ${this.#timeoutMs} ms (targetTimeoutMs); the ${changes.length} change(s) stay queued and are retried once it settles.`,
          ),
        );
      }, this.#timeoutMs);
    });
    try {
      await Promise.race([call, timeout]);
    } catch (error) {
      throw error instanceof KalphitePersistenceError
        ? error
        : new KalphitePersistenceError(
            `Writing ${changes.length} change(s) failed: ${error instanceof Error ? error.message : String(error)}. They stay queued and are retried.`,
            { cause: error },
          );
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }
}
