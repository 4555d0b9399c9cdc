// The pace at which a client sends: a token bucket kept under the server's rate limit, which
// halves and pauses when the server still refuses messages as `rate-limited`, and recovers.
import { TokenBucket } from "../internal/token-bucket.js";

/** How long sending pauses after the server refused a message as `rate-limited`. */
export const THROTTLE_PAUSE_MS = 1_000;
/** After this long without a refusal, a slowed-down pace doubles back towards `sendRate`. */
const THROTTLE_RECOVERY_MS = 5_000;
/** The slowest pace flow control goes down to, in messages per second. */
const MIN_SEND_RATE = 1;

export class Pacer {
  readonly #maxRate: number;
  readonly #maxBurst: number;
  /** Its rate is the current pace, its burst scaled down with it. */
  readonly #bucket: TokenBucket;
  #tokensAt = 0;
  /** When the pace last changed (slowed down or recovered). */
  #rateChangedAt = 0;
  #pausedUntil = 0;
  /** When the latest `rate-limited` arrived: messages sent until then may have been refused. */
  #throttledAt = 0;

  constructor(messagesPerSecond: number, burst: number) {
    this.#maxRate = messagesPerSecond;
    this.#maxBurst = burst;
    // No tokens before the first connection: `fresh` fills the bucket.
    this.#bucket = new TokenBucket(messagesPerSecond, this.#burst(messagesPerSecond), 0);
  }

  /** When the latest refusal arrived. */
  get throttledAt(): number {
    return this.#throttledAt;
  }

  /** A new connection has a fresh budget on the server; the pace learned stays. */
  fresh(now: number): void {
    this.#bucket.tokens = this.#bucket.burst;
    this.#tokensAt = now;
  }

  /** The connection closed: a pause belonged to it. */
  reset(): void {
    this.#pausedUntil = 0;
  }

  /** Counts one message sent. */
  spend(now: number): void {
    this.#refill(now);
    this.#bucket.spend();
  }

  /** How long until one more message may go: 0 when it may go now. */
  wait(now: number): number {
    if (now < this.#pausedUntil) return this.#pausedUntil - now;
    this.#refill(now);
    return this.#bucket.wait();
  }

  /**
   * The server refused a message as over its rate limit: halve the pace and pause. False when a
   * pause is already on (the refusals of one burst answer messages sent before it).
   */
  throttle(now: number): boolean {
    this.#throttledAt = now;
    if (now < this.#pausedUntil) return false;
    this.#pace(Math.max(MIN_SEND_RATE, this.#bucket.rate / 2), now);
    this.#bucket.tokens = 0;
    this.#pausedUntil = now + THROTTLE_PAUSE_MS;
    this.#tokensAt = this.#pausedUntil; // nothing accrues during the pause
    return true;
  }

  /** The burst allowed at a pace (scaled down with it). */
  #burst(rate: number): number {
    return Math.max(1, (this.#maxBurst * rate) / this.#maxRate);
  }

  #pace(rate: number, now: number): void {
    this.#bucket.rate = rate;
    this.#bucket.burst = this.#burst(rate);
    this.#rateChangedAt = now;
  }

  #refill(now: number): void {
    const { rate } = this.#bucket;
    if (rate < this.#maxRate && now - this.#rateChangedAt >= THROTTLE_RECOVERY_MS)
      this.#pace(Math.min(this.#maxRate, rate * 2), now);
    this.#bucket.refill(Math.max(0, now - this.#tokensAt));
    this.#tokensAt = now;
  }
}
