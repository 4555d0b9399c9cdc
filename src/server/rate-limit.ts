/** A per-connection message budget. */
export interface RateLimit {
  /** Sustained messages per second. @default 200 */
  messagesPerSecond?: number;
  /** Messages allowed in a burst above the sustained rate. @default 400 */
  burst?: number;
  /** Refused messages after which the connection is closed (1008). @default 100 */
  closeAfter?: number;
}

/** A token bucket: `take()` is false when the connection is over its budget. */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;
  readonly #now: () => number;

  constructor(limit: RateLimit, now: () => number) {
    this.#rate = limit.messagesPerSecond ?? 200;
    this.#burst = limit.burst ?? 400;
    this.#tokens = this.#burst;
    this.#now = now;
    this.#last = now();
  }

  take(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
