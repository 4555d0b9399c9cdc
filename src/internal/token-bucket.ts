/**
 * A token bucket: `rate` tokens a second, never more than `burst` held. It keeps no clock: its
 * owner says how much time to credit, so the server can credit by when a client sent and the
 * client by its own clock minus a pause. One bucket for the server's rate limit and the client's
 * pace, so that the two sides count the same way.
 *
 * @internal
 * @example
 * const bucket = new TokenBucket(200, 400);
 * bucket.refill(elapsedMs);
 * if (!bucket.take()) refuse();
 */
export class TokenBucket {
  /** Tokens earned a second. */
  rate: number;
  /** The most tokens held. */
  burst: number;
  /** Tokens held; below 0 after `spend` ran into debt. */
  tokens: number;

  constructor(rate: number, burst: number, tokens = burst) {
    this.rate = rate;
    this.burst = burst;
    this.tokens = tokens;
  }

  /** Adds what `elapsedMs` earns at the current rate, up to the burst. */
  refill(elapsedMs: number): void {
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs / 1000) * this.rate);
  }

  /** Takes one token; false, taking none, when there is not a whole one. */
  take(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Takes one token even when there is none: the debt is paid back by the next refills. */
  spend(): void {
    this.tokens -= 1;
  }

  /** How long until a whole token is held, in ms (rounded up): 0 when one is. */
  wait(): number {
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }
}
