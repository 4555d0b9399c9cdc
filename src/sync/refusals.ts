// The server's errors, and the changes it refused for good: a refused change leaves the outbox,
// its entity shows the server's version again, and the refusal is announced (an event and the
// `refused` signal), so that nothing wedges the outbox behind it.
import { signal } from "@preact/signals-core";
import { KalphiteAuthError, KalphiteSyncError } from "../core/index.js";
import type { SyncErrorCode } from "../protocol/messages.js";
import type { SyncStore } from "./options.js";
import type { Replica } from "./replica.js";
import type { Sender } from "./sender.js";
import { FATAL_CODES, RETRYABLE_CODES, type RefusedChange } from "./sync-events.js";

export interface RefusalsHost {
  store: SyncStore;
  replica: Replica;
  sender: Sender;
  /** An error that ends the connection for good (no reconnect). */
  fatal(error: KalphiteSyncError): void;
  error(error: KalphiteSyncError): void;
  refused(refusal: RefusedChange): void;
  /** The outbox changed. */
  outboxChanged(): void;
}

/** A server's `error` message. */
export interface ServerError {
  code: SyncErrorCode;
  message: string;
  rejectedId?: string;
  permanent?: boolean;
  fatal?: boolean;
}

export class Refusals {
  readonly #host: RefusalsHost;
  /** The changes refused since the last `dismiss()`, oldest first. */
  readonly list = signal<readonly RefusedChange[]>([]);

  constructor(host: RefusalsHost) {
    this.#host = host;
  }

  dismiss(): void {
    this.list.value = [];
  }

  /** A server's error: reported; a change refused for good leaves the outbox. */
  serverError(payload: ServerError): void {
    if (payload.code === "rate-limited") {
      // Flow control, not a failure: slow down and resend (see `throttled`).
      this.#host.sender.throttle();
      return;
    }
    const isAuth = FATAL_CODES.has(payload.code);
    const error = isAuth
      ? new KalphiteAuthError(payload.message, { code: payload.code })
      : new KalphiteSyncError(payload.message, { code: payload.code });
    if (payload.fatal || isAuth) this.#host.fatal(error);
    this.#host.error(error);
    // A change refused for good (the server's schema, its size, a forged vector) leaves the
    // outbox; one the server may still take (storage failed) is resent later. A server that does
    // not say `permanent` refuses for good whatever it does not call retryable.
    if (
      payload.rejectedId !== undefined &&
      (payload.permanent ?? !RETRYABLE_CODES.has(payload.code))
    )
      this.refuse(payload.rejectedId, error);
  }

  /**
   * The socket closed with `code`. 1009: a message was too large for the server. A change over
   * its limit is refused for good (resending it would close the connection again, forever).
   * Call before the sender forgets what it sent.
   */
  closed(code: number | undefined): () => void {
    if (code !== 1009) return () => {};
    const sent = this.#host.sender.sentBytes;
    let tooLarge = [...sent].filter(
      ([, bytes]) => bytes > this.#host.replica.limits.maxMessageBytes,
    );
    // A server below the limits it announced (or announcing none): one change in flight is it.
    if (tooLarge.length === 0 && sent.size === 1) tooLarge = [...sent];
    return () => {
      for (const [messageId, bytes] of tooLarge) {
        this.refuse(
          messageId,
          new KalphiteSyncError(
            `The server closed the connection (1009: message too large) on a ${bytes.toLocaleString("en")}-byte change: it was refused for good.`,
            { code: "message-too-large" },
          ),
        );
      }
    };
  }

  /**
   * A change refused for good: out of the outbox, the entity back to the server's version, the
   * refusal announced (`refused` event and signal, `status` says so until `dismiss()`).
   */
  refuse(messageId: string, error: KalphiteSyncError): void {
    const entry = this.#drop(messageId);
    if (!entry) return;
    const refusal: RefusedChange = {
      messageId,
      operation: entry.operation,
      entityType: entry.entityType,
      entityId: entry.entityId,
      ...(entry.entity ? { entity: entry.entity } : {}),
      error,
    };
    this.list.value = [...this.list.value, refusal];
    this.#host.refused(refusal);
  }

  /**
   * An ack that settles a change without its own entry: a snapshot covered it (snapshots carry
   * versions, not message ids), or the server compacted it into a later entry.
   */
  settled(messageId: string): void {
    this.#drop(messageId);
  }

  /** Takes a change out of the outbox, the store back to the server's version. */
  #drop(messageId: string) {
    const { store, replica } = this.#host;
    if (!replica.has(messageId)) return undefined;
    const entry = store.batch(() => replica.drop(messageId));
    this.#host.outboxChanged();
    return entry;
  }
}
