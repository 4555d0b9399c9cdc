import { TokenBucket as Bucket } from "../../internal/token-bucket.js";

/** A per-connection message budget. */
export interface RateLimit {
  /** Sustained messages per second. @default 200 */
  messagesPerSecond?: number;
  /** Messages allowed in a burst above the sustained rate. @default 400 */
  burst?: number;
  /**
   * Refused messages after which the connection is closed (1008); the count starts again after
   * 5 s without a refusal, so only a sustained flood reaches it. @default 100
   */
  closeAfter?: number;
}

/**
 * The server's rate limit: a token bucket that does not charge a client for the server's own
 * stalls (the bucket is the client's too; what this layer adds is how time is credited).
 *
 * Tokens refill with the time between two messages, measured two ways, and the larger counts:
 * by when they arrived (the server's clock) and by when the client says it sent them (the
 * envelope `timestamp`, in the client's clock). After a stall (a paused process, a busy event
 * loop, a slow network buffer), messages sent at a fair pace arrive all at once, but their
 * envelope times are still spread, so they are not a flood. The client cannot buy tokens by
 * lying: the envelope time it is credited for never runs ahead of the server's clock since the
 * connection opened, so over any span a client gets at most twice the sustained rate plus the
 * burst, and a real flood is still refused. An envelope time that goes backwards (an outbox of
 * old changes being resent) credits nothing and costs nothing: the arrival time still refills.
 */
export class TokenBucket {
  readonly #bucket: Bucket;
  readonly #now: () => number;
  /** The server's clock at the last message. */
  #lastArrival: number;
  /** The server's clock when the bucket started: the envelope credit never passes its age. */
  readonly #openedAt: number;
  /** The latest envelope time seen (client clock), undefined before the first message. */
  #lastSent: number | undefined;
  /** Envelope time credited so far, in ms. */
  #credited = 0;

  constructor(limit: RateLimit, now: () => number) {
    this.#bucket = new Bucket(limit.messagesPerSecond ?? 200, limit.burst ?? 400);
    this.#now = now;
    this.#lastArrival = this.#openedAt = now();
  }

  /**
   * Charges one message sent at `sentAt` (the client's clock); false when over the budget.
   *
   * @example if (!bucket.take(message.timestamp)) refuse();
   */
  take(sentAt?: number): boolean {
    const now = this.#now();
    const arrived = Math.max(0, now - this.#lastArrival);
    this.#lastArrival = now;
    let sent = 0;
    if (sentAt !== undefined && Number.isFinite(sentAt)) {
      if (this.#lastSent !== undefined && sentAt > this.#lastSent) {
        const allowed = Math.max(0, now - this.#openedAt - this.#credited);
        sent = Math.min(sentAt - this.#lastSent, allowed);
        this.#credited += sent;
      }
      if (this.#lastSent === undefined || sentAt > this.#lastSent) this.#lastSent = sentAt;
    }
    this.#bucket.refill(Math.max(arrived, sent));
    return this.#bucket.take();
  }
}
