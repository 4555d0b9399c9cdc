// Local changes on their way into the outbox: the store's local writes (held until the saved
// outbox has loaded, so they queue after it), changes handed to `sendChange`, the check that
// refuses at `upsert` what could never be sent, and the queue size announced as it changes.
import { signal } from "@preact/signals-core";
import type { Entity, StoreChange } from "../core/index.js";
import { takeChosenMessageId } from "./chosen-message-ids.js";
import { checkSendable } from "./limits.js";
import type { OutboxEntry } from "./persistence.js";
import type { Replica } from "./replica.js";
import type { Sender } from "./sender.js";
import type { ChangeMessage, ConflictStrategy } from "./types.js";

export interface LocalQueueHost {
  /** The store synced (the one a writer may choose message ids on, see chosen-message-ids.ts). */
  store: object;
  replica: Replica;
  sender: Sender;
  userId: string;
  strategy: ConflictStrategy;
  /** Whether the connection is joined (then a new entry is sent at once). */
  joined(): boolean;
  /** Announces the queue size (the `queue` event). */
  announce(size: number): void;
}

export class LocalQueue {
  readonly #host: LocalQueueHost;
  #loaded = false;
  /** Local writes made before the saved outbox loaded. */
  #beforeLoad: StoreChange[] = [];
  /** The message ids chosen for some of them (see chosen-message-ids.ts). */
  readonly #chosenBeforeLoad = new WeakMap<StoreChange, string>();
  /** The size last announced. */
  #announced = 0;
  /** Local changes not yet acknowledged, as a signal. */
  readonly size = signal(0);

  constructor(host: LocalQueueHost) {
    this.#host = host;
  }

  /** Local changes not yet acknowledged (with those made before the load). */
  get count(): number {
    return this.#host.replica.outbox.length + this.#beforeLoad.length;
  }

  /** Refuses at `upsert` what could never be sent under the last known limits. */
  checkWrite(entity: Entity): void {
    const { replica, userId } = this.#host;
    const vector = replica.confirmed(entity.type, entity.id)?.vector;
    const vectorBytes = vector ? JSON.stringify(vector).length + 2 * userId.length : 64;
    checkSendable(entity, replica.limits, { vectorBytes: vectorBytes + userId.length });
  }

  storeChanged(change: StoreChange): void {
    if (change.origin !== "local") return;
    // A follower tab's change comes with the message id its leader chose for it.
    const messageId = takeChosenMessageId(this.#host.store, change.entityType, change.entityId);
    if (messageId !== undefined && !this.#loaded) this.#chosenBeforeLoad.set(change, messageId);
    if (!this.#loaded) {
      this.#beforeLoad.push(change);
      this.#host.replica.writtenBeforeLoad(change);
      this.changed();
      return;
    }
    this.#enqueue(this.#host.replica.entryFor(change, messageId), true);
  }

  /** A change made outside the store (`sendChange`); ignored when its message id is queued. */
  sendChange(change: ChangeMessage): void {
    if (this.#host.replica.has(change.messageId)) return;
    const p = change.payload;
    const entry: OutboxEntry = {
      messageId: change.messageId,
      timestamp: change.timestamp,
      operation: p.operation,
      entityType: p.entityType,
      entityId: p.entityId,
      vector: p.vector,
      strategy: p.strategy ?? this.#host.strategy,
    };
    if (p.entity) entry.entity = p.entity;
    if (p.changedFields) entry.changedFields = p.changedFields;
    this.#enqueue(entry);
  }

  /** The saved state has loaded (or failed to): the writes made meanwhile queue after it. */
  loaded(): void {
    this.#loaded = true;
    const early = this.#beforeLoad;
    this.#beforeLoad = [];
    // Not tied to their entity rows: a database holds its writes until these are recorded (see
    // SyncStateTable.load), so they commit with or before the rows, never after; tied, one whose
    // row was written already would hold back every delta after it.
    for (const change of early)
      this.#enqueue(this.#host.replica.entryFor(change, this.#chosenBeforeLoad.get(change)));
    this.changed(true);
  }

  /** After any change to the outbox or the cursor: record the cursor, announce the size. */
  changed(always = false): void {
    this.#host.replica.recordCursor();
    const size = this.count;
    this.size.value = size;
    if (size === this.#announced && !always) return;
    this.#announced = size;
    this.#host.announce(size);
  }

  /** Adds to the outbox and sends it when joined; `fromStore` for a store change. */
  #enqueue(entry: OutboxEntry, fromStore = false): void {
    this.#host.replica.add(entry, fromStore);
    this.changed();
    if (this.#host.joined()) this.#host.sender.send(entry);
  }
}
