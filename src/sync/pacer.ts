// The pace at which a client sends: a token bucket kept under the server's rate limit, which
// halves and pauses when the server still refuses messages as `rate-limited`, and recovers.

/** How long sending pauses after the server refused a message as `rate-limited`. */
export const THROTTLE_PAUSE_MS = 1_000;
/** After this long without a refusal, a slowed-down pace doubles back towards `sendRate`. */
const THROTTLE_RECOVERY_MS = 5_000;
/** The slowest pace flow control goes down to, in messages per second. */
const MIN_SEND_RATE = 1;

export class Pacer {
  readonly #maxRate: number;
  readonly #maxBurst: number;
  #rate: number;
  #tokens = 0;
  #tokensAt = 0;
  /** When the pace last changed (slowed down or recovered). */
  #rateChangedAt = 0;
  #pausedUntil = 0;
  /** When the latest `rate-limited` arrived: messages sent until then may have been refused. */
  #throttledAt = 0;

  constructor(messagesPerSecond: number, burst: number) {
    this.#maxRate = this.#rate = messagesPerSecond;
    this.#maxBurst = burst;
  }

  /** When the latest refusal arrived. */
  get throttledAt(): number {
    return this.#throttledAt;
  }

  /** A new connection has a fresh budget on the server; the pace learned stays. */
  fresh(now: number): void {
    this.#tokens = this.#burst();
    this.#tokensAt = now;
  }

  /** The connection closed: a pause belonged to it. */
  reset(): void {
    this.#pausedUntil = 0;
  }

  /** Counts one message sent. */
  spend(now: number): void {
    this.#refill(now);
    this.#tokens -= 1;
  }

  /** How long until one more message may go: 0 when it may go now. */
  wait(now: number): number {
    if (now < this.#pausedUntil) return this.#pausedUntil - now;
    this.#refill(now);
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) / this.#rate) * 1000);
  }

  /**
   * The server refused a message as over its rate limit: halve the pace and pause. False when a
   * pause is already on (the refusals of one burst answer messages sent before it).
   */
  throttle(now: number): boolean {
    this.#throttledAt = now;
    if (now < this.#pausedUntil) return false;
    this.#rate = Math.max(MIN_SEND_RATE, this.#rate / 2);
    this.#rateChangedAt = now;
    this.#tokens = 0;
    this.#pausedUntil = now + THROTTLE_PAUSE_MS;
    this.#tokensAt = this.#pausedUntil; // nothing accrues during the pause
    return true;
  }

  /** The burst allowed at the current pace (scaled down with it). */
  #burst(): number {
    return Math.max(1, (this.#maxBurst * this.#rate) / this.#maxRate);
  }

  #refill(now: number): void {
    if (this.#rate < this.#maxRate && now - this.#rateChangedAt >= THROTTLE_RECOVERY_MS) {
      this.#rate = Math.min(this.#maxRate, this.#rate * 2);
      this.#rateChangedAt = now;
    }
    const elapsed = Math.max(0, now - this.#tokensAt);
    this.#tokens = Math.min(this.#burst(), this.#tokens + (elapsed / 1000) * this.#rate);
    this.#tokensAt = now;
  }
}
