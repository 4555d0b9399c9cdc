// Which outbox entries go out on the current connection, in order and paced; what was sent when,
// so that an unacknowledged change is resent, and a refused one named.
import { changePayload } from "../protocol/messages.js";
import type { SyncClock } from "./options.js";
import { type Pacer, THROTTLE_PAUSE_MS } from "./pacer.js";
import type { OutboxEntry } from "./persistence.js";

export interface SenderHost {
  clock: SyncClock;
  pacer: Pacer;
  userId: string;
  /** Whether the connection is joined (nothing is sent before the welcome). */
  joined(): boolean;
  outbox(): readonly OutboxEntry[];
  /** Sends one message; its size in bytes (0 when not sent). */
  send(message: Parameters<typeof JSON.stringify>[0]): number;
  throttled(pauseMs: number): void;
}

export class Sender {
  readonly #host: SenderHost;
  /** When each change was sent on this connection (unacknowledged ones). */
  readonly #sentAt = new Map<string, number>();
  /** The size of each change sent on this connection and not yet acknowledged. */
  readonly #sentBytes = new Map<string, number>();
  #resendTimer: unknown;
  #pumpTimer: unknown;
  /** Outbox entries to send on this connection, in order, from `#sendHead` on. */
  #sendQueue: OutboxEntry[] = [];
  #sendHead = 0;
  /** Message ids in `#sendQueue` still to send (an acknowledged one is removed and skipped). */
  readonly #queued = new Set<string>();

  constructor(host: SenderHost) {
    this.#host = host;
  }

  /** The changes sent on this connection and not acknowledged, with their sizes. */
  get sentBytes(): ReadonlyMap<string, number> {
    return this.#sentBytes;
  }

  /** Queues an entry to send (once) and sends what the pace allows. */
  send(entry: OutboxEntry): void {
    this.#queue(entry);
    this.pump();
  }

  /** A new connection: every outbox entry goes out again, in order. */
  sendAll(): void {
    for (const entry of this.#host.outbox()) this.#queue(entry);
    this.pump();
  }

  /** An entry left the outbox: nothing about it outlives it. */
  forget(messageId: string): void {
    this.#sentAt.delete(messageId);
    this.#sentBytes.delete(messageId);
    this.#queued.delete(messageId);
  }

  /** The connection is gone: what was sent on it is forgotten (sent again on the next one). */
  reset(): void {
    const { clock, pacer } = this.#host;
    this.#sentAt.clear();
    this.#sentBytes.clear();
    this.#sendQueue = [];
    this.#sendHead = 0;
    this.#queued.clear();
    pacer.reset();
    clock.clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    clock.clearTimeout(this.#resendTimer);
    this.#resendTimer = undefined;
  }

  /**
   * A heartbeat: a change unacknowledged for `deadline` ms was probably refused (storage failure)
   * or lost: resend it (idempotent), paced like every other send.
   */
  resendStale(now: number, deadline: number): void {
    const stale = new Set<string>();
    for (const entry of this.#host.outbox()) {
      const sent = this.#sentAt.get(entry.messageId);
      if (sent === undefined ? !this.#queued.has(entry.messageId) : now - sent >= deadline)
        stale.add(entry.messageId);
    }
    this.#resend(stale);
    this.pump();
  }

  /**
   * The server refused a message as over its rate limit. It does not say which one, so every
   * change sent until now and not acknowledged after a pause is resent. One slow-down per burst
   * of refusals: they all answer messages sent before the first one arrived.
   */
  throttle(): void {
    const { clock, pacer } = this.#host;
    if (!pacer.throttle(clock.now())) return;
    clock.clearTimeout(this.#resendTimer);
    this.#resendTimer = clock.setTimeout(() => {
      this.#resendTimer = undefined;
      const refused = new Set<string>();
      const throttledAt = pacer.throttledAt;
      for (const [id, sent] of this.#sentAt) if (sent <= throttledAt) refused.add(id);
      this.#resend(refused);
      this.pump();
    }, THROTTLE_PAUSE_MS);
    this.#host.throttled(THROTTLE_PAUSE_MS);
  }

  /** Sends queued changes as far as the budget allows; comes back when it allows more. */
  pump(): void {
    const { clock, pacer } = this.#host;
    clock.clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    if (!this.#host.joined()) return;
    while (this.#sendHead < this.#sendQueue.length) {
      const entry = this.#sendQueue[this.#sendHead] as OutboxEntry;
      if (!this.#queued.has(entry.messageId)) {
        this.#sendHead++;
        continue;
      }
      const wait = pacer.wait(clock.now());
      if (wait > 0) {
        this.#pumpTimer = clock.setTimeout(() => this.pump(), wait);
        return;
      }
      this.#sendHead++;
      this.#queued.delete(entry.messageId);
      this.#sendEntry(entry);
    }
    this.#sendQueue = [];
    this.#sendHead = 0;
  }

  #queue(entry: OutboxEntry): void {
    if (this.#queued.has(entry.messageId)) return;
    this.#queued.add(entry.messageId);
    this.#sendQueue.push(entry);
  }

  /** Queues these changes (in outbox order, before what is already queued) for sending. */
  #resend(ids: ReadonlySet<string>): void {
    if (ids.size === 0) return;
    for (const id of ids) this.#sentAt.delete(id);
    const queue = this.#host
      .outbox()
      .filter((e) => ids.has(e.messageId) || this.#queued.has(e.messageId));
    this.#sendQueue = queue;
    this.#sendHead = 0;
    this.#queued.clear();
    for (const entry of queue) this.#queued.add(entry.messageId);
  }

  #sendEntry(entry: OutboxEntry): void {
    this.#sentAt.set(entry.messageId, this.#host.clock.now());
    const bytes = this.#host.send({
      type: "change",
      payload: changePayload(entry),
      timestamp: entry.timestamp,
      userId: this.#host.userId,
      messageId: entry.messageId,
    });
    this.#sentBytes.set(entry.messageId, bytes);
  }
}
