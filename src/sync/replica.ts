// The client's copy of its room: the server's confirmed version of each entity, the cursor, the
// outbox of local changes, and the store kept showing the confirmed versions with the outbox on
// top (the rebased view). Every change of that state is recorded, as it happens, as a delta in
// the persistence (see persistence.ts).
import { entityKey } from "../core/entity-key.js";
import type { Entity, StoreChange } from "../core/index.js";
import { KalphiteSyncError } from "../core/index.js";
import { entityPeeker, peekEntity } from "../core/typed-collection.js";
import {
  type ConflictRecord,
  DEFAULT_LIMITS,
  type LogEntry,
  type ServerLimits,
  type SnapshotEntity,
} from "../protocol/messages.js";
import { ByEntity } from "./by-entity.js";
import { deepEqual } from "./deep-equal.js";
import type { SyncStore } from "./options.js";
import type {
  ConfirmedVersion,
  DeltaEntity,
  LoadedSyncState,
  OutboxEntry,
  SyncDelta,
  SyncPersistence,
} from "./persistence.js";
import type { ConflictResolution, VectorClock } from "./types.js";

/** A change another client made, as it was applied here. */
export interface RemoteChange {
  operation: "upsert" | "delete";
  entityType: string;
  entityId: string;
  entity?: Entity;
  userId: string;
  seq: number;
}

/** A concurrent edit of this client's that the server resolved. */
export interface SyncConflict extends ConflictRecord {
  entityType: string;
  entityId: string;
  messageId: string;
  /** What the server stored (null when deleted). */
  resolved: Entity | null;
}

/** What a Replica needs from its engine. */
export interface ReplicaHost {
  store: SyncStore;
  persistence: SyncPersistence | undefined;
  userId: string;
  resolution: ConflictResolution;
  createId(): string;
  now(): number;
  emitChange(change: RemoteChange): void;
  emitConflict(conflict: SyncConflict): void;
  emitError(error: KalphiteSyncError): void;
  /** An entry left the outbox: the sender forgets it. */
  forget(entry: OutboxEntry): void;
}

/**
 * Marks a confirmed version whose recorded entity is left to the store's (its row), on the version
 * itself: a reload of 100,000 versions then fills one map, not two (a second map's inserts were a
 * third of the replica's restore). A symbol, so it is never serialized with the version.
 */
const SHOWN = Symbol("shown");
type Marked = ConfirmedVersion & { [SHOWN]?: boolean };

export class Replica {
  readonly #host: ReplicaHost;
  #cursor = 0;
  readonly #confirmed = new ByEntity<Marked>();
  /** Oldest first. Indexed by the two maps below so no hot path scans it. */
  #outbox: OutboxEntry[] = [];
  /** Each message id's entry in the outbox (the oldest one, should an id be there twice). */
  readonly #byMessageId = new Map<string, OutboxEntry>();
  /** Each entity's pending entries, oldest first (short: one entity's unacknowledged edits). */
  readonly #pendingByEntity = new Map<string, OutboxEntry[]>();
  /** Whether a message id ever came into the outbox twice (then removal looks for the other). */
  #duplicateIds = false;
  /** Entries received ahead of the cursor, by seq, applied once the gap before them is filled. */
  readonly #pending = new Map<number, LogEntry>();
  /** The highest seq `receive` ever kept (see `highestPending`). */
  #highestReceived = 0;
  /** The cursor last recorded in the persistence. */
  #recordedCursor = 0;
  /** The last limits a server announced (persisted), or the defaults. */
  #limits: ServerLimits = DEFAULT_LIMITS;
  /** Each entity written locally before the saved state loaded: what the store held before. */
  readonly #beforeLoad = new Map<string, Entity | undefined>();

  constructor(host: ReplicaHost) {
    this.#host = host;
  }

  /** The last position in the room's order applied here. */
  get cursor(): number {
    return this.#cursor;
  }

  /** The unacknowledged local changes, oldest first. */
  get outbox(): readonly OutboxEntry[] {
    return this.#outbox;
  }

  get limits(): ServerLimits {
    return this.#limits;
  }

  /** The confirmed version of an entity, if any. */
  confirmed(entityType: string, entityId: string): ConfirmedVersion | undefined {
    return this.#confirmed.get(entityType, entityId);
  }

  /**
   * A local write made before the saved state loaded: its entity's first one keeps what the store
   * held before it (the row persist() hydrated), the confirmed entity of a version left to the row.
   */
  writtenBeforeLoad(change: StoreChange): void {
    const key = entityKey(change.entityType, change.entityId);
    if (!this.#beforeLoad.has(key)) this.#beforeLoad.set(key, change.previous);
  }

  /** Takes the state a persistence loaded: cursor, limits, versions, outbox; shows it. */
  restore(state: LoadedSyncState): void {
    const store = this.#host.store;
    this.#cursor = this.#recordedCursor = state.cursor;
    if (state.limits) this.#limits = state.limits;
    const keys = new Map<string, [string, string]>();
    let peek: ((id: string) => Entity | undefined) | undefined;
    let collectionType: string | undefined;
    for (const v of state.versions) {
      if (v.entity === undefined) {
        // Recorded as shown: the store holds it (hydrated from its row), nothing to refresh;
        // unless written since, then the row's entity is what the store held before that write.
        // Usually nothing was written before the load: then no key is built per version.
        const key = this.#beforeLoad.size > 0 ? entityKey(v.entityType, v.entityId) : undefined;
        if (key !== undefined && this.#beforeLoad.has(key)) {
          v.entity = this.#beforeLoad.get(key) ?? null;
        } else {
          if (collectionType !== v.entityType) {
            collectionType = v.entityType;
            peek = entityPeeker(store.collection(v.entityType));
          }
          v.entity = peek!(v.entityId) ?? null;
        }
        (v as Marked)[SHOWN] = true;
      } else {
        // Read from the row when no persisted store was linked yet: shown all the same, so a
        // later local edit records the version explicitly (the row will no longer hold it).
        // Set either way: a persistence in memory hands back the versions an earlier replica held.
        (v as Marked)[SHOWN] = v.shown === true;
        if (v.shown !== undefined) delete v.shown;
        keys.set(entityKey(v.entityType, v.entityId), [v.entityType, v.entityId]);
      }
      this.#confirmed.set(v.entityType, v.entityId, v as Marked);
    }
    this.#beforeLoad.clear();
    // The saved changes are older than those made while they loaded: they go first.
    this.#outbox = [...state.outbox, ...this.#outbox];
    this.#reindex();
    for (const o of state.outbox)
      keys.set(entityKey(o.entityType, o.entityId), [o.entityType, o.entityId]);
    store.batch(() => {
      for (const [entityType, entityId] of keys.values()) this.refresh(entityType, entityId);
    });
  }

  /** The outbox entry for a local store change, made on the confirmed version. */
  entryFor(change: StoreChange, messageId = this.#host.createId()): OutboxEntry {
    const key = entityKey(change.entityType, change.entityId);
    const me = this.#host.userId;
    const base = this.#confirmed.get(change.entityType, change.entityId)?.vector ?? {};
    // The server adds one to the writer's entry per applied change, so a change made on top of
    // this client's own pending changes predicts that, and is not mistaken for a concurrent edit.
    const pendingForKey = this.#pendingByEntity.get(key)?.length ?? 0;
    // Own entries only: a user id such as "constructor" must not read Object.prototype's.
    const own = Object.hasOwn(base, me) ? base[me]! : 0;
    const vector: VectorClock = { ...base, [me]: own + pendingForKey };
    if (vector[me] === 0) delete vector[me];
    const entry: OutboxEntry = {
      messageId,
      timestamp: this.#host.now(),
      operation: change.operation,
      entityType: change.entityType,
      entityId: change.entityId,
      vector,
      strategy: this.#host.resolution.strategy,
    };
    if (change.entity) entry.entity = change.entity;
    const changed = changedDataFields(change.previous, change.entity);
    if (changed) entry.changedFields = changed;
    return entry;
  }

  /** Adds to the outbox; `fromStore` when the entry is a store change (committed with its row). */
  add(entry: OutboxEntry, fromStore: boolean): void {
    this.#outbox.push(entry);
    this.#index(entry);
    const entity = fromStore
      ? { entityType: entry.entityType, entityId: entry.entityId }
      : undefined;
    this.#record({ kind: "outbox-add", entry }, entity);
    const confirmed = this.#confirmed.get(entry.entityType, entry.entityId);
    if (confirmed?.[SHOWN]) {
      confirmed[SHOWN] = false;
      // The row no longer holds the confirmed entity: record it explicitly, with the row's change.
      this.#record({ kind: "version", version: confirmed, shown: false }, entity);
    }
  }

  has(messageId: string): boolean {
    return this.#byMessageId.has(messageId);
  }

  /**
   * Takes an entry out of the outbox for good (refused, or settled by a snapshot): the store
   * shows the server's version again. Returns it, or undefined when it was not there.
   */
  drop(messageId: string): OutboxEntry | undefined {
    const entry = this.#take(messageId);
    if (!entry) return undefined;
    const changed = this.refresh(entry.entityType, entry.entityId);
    const entity = changed ? entry : undefined;
    this.#record({ kind: "outbox-remove", messageId }, entity);
    const confirmed = this.#confirmed.get(entry.entityType, entry.entityId);
    if (confirmed) this.#recordVersion(confirmed, entity);
    return entry;
  }

  #take(messageId: string): OutboxEntry | undefined {
    const entry = this.#byMessageId.get(messageId);
    if (!entry) return undefined;
    // Acknowledgements come in the order the changes were sent, oldest first: the entry is
    // nearly always at the front, and only a refusal or a settled change is looked for further.
    if (this.#outbox[0] === entry) this.#outbox.shift();
    else this.#outbox.splice(this.#outbox.indexOf(entry), 1);
    this.#unindex(entry);
    this.#host.forget(entry);
    return entry;
  }

  #index(entry: OutboxEntry): void {
    if (this.#byMessageId.has(entry.messageId)) this.#duplicateIds = true;
    else this.#byMessageId.set(entry.messageId, entry);
    const key = entityKey(entry.entityType, entry.entityId);
    const pending = this.#pendingByEntity.get(key);
    if (pending) pending.push(entry);
    else this.#pendingByEntity.set(key, [entry]);
  }

  #unindex(entry: OutboxEntry): void {
    this.#byMessageId.delete(entry.messageId);
    if (this.#duplicateIds) {
      const other = this.#outbox.find((e) => e.messageId === entry.messageId);
      if (other) this.#byMessageId.set(entry.messageId, other);
    }
    const key = entityKey(entry.entityType, entry.entityId);
    const pending = this.#pendingByEntity.get(key);
    if (!pending) return;
    if (pending.length === 1) this.#pendingByEntity.delete(key);
    else if (pending[0] === entry) pending.shift();
    else pending.splice(pending.indexOf(entry), 1);
  }

  /** Builds both indexes anew from the outbox (once, when the saved outbox comes in). */
  #reindex(): void {
    this.#byMessageId.clear();
    this.#pendingByEntity.clear();
    this.#duplicateIds = false;
    for (const entry of this.#outbox) this.#index(entry);
  }

  /** Whether a local change of the entity is still pending. */
  #isPending(entityType: string, entityId: string): boolean {
    return this.#pendingByEntity.has(entityKey(entityType, entityId));
  }

  /** Keeps an entry of the room's order to apply in seq order; false if already applied. */
  receive(entry: LogEntry): boolean {
    if (entry.seq <= this.#cursor) return false;
    this.#pending.set(entry.seq, entry);
    if (entry.seq > this.#highestReceived) this.#highestReceived = entry.seq;
    return true;
  }

  /**
   * The highest seq received and not yet applied (the cursor when none waits), in O(1): an
   * entry leaves `#pending` only once the cursor passed it, so the highest seq ever received
   * is either still pending or behind the cursor.
   */
  get highestPending(): number {
    return Math.max(this.#cursor, this.#highestReceived);
  }

  /** Whether the entry right after the cursor is in. */

  get canDrain(): boolean {
    return this.#pending.has(this.#cursor + 1);
  }

  /** Applies the received entries that follow the cursor without a gap. */
  drain(): void {
    let entry = this.#pending.get(this.#cursor + 1);
    while (entry !== undefined) {
      this.#pending.delete(entry.seq);
      this.#cursor = entry.seq;
      this.#apply(entry);
      entry = this.#pending.get(this.#cursor + 1);
    }
  }

  /** Replaces every confirmed version with a snapshot's, at `head`, and rebases the view. */
  applySnapshot(snapshot: readonly SnapshotEntity[], head: number): void {
    // Every entity of the old or the new versions, by its stored type and id: keys are for
    // lookups and never parsed back (an id may contain any character).
    const touched = new Map<string, ConfirmedVersion>();
    for (const version of this.#confirmed.values())
      touched.set(entityKey(version.entityType, version.entityId), version);
    this.#confirmed.clear();
    for (const version of snapshot) {
      this.#confirmed.set(version.entityType, version.entityId, { ...version });
      touched.set(entityKey(version.entityType, version.entityId), version);
    }
    this.#cursor = head;
    for (const [seq] of this.#pending) if (seq <= this.#cursor) this.#pending.delete(seq);
    const changed: DeltaEntity[] = [];
    const unchanged: DeltaEntity[] = [];
    for (const version of touched.values())
      (this.refresh(version.entityType, version.entityId) ? changed : unchanged).push(version);
    if (!this.#host.persistence) return;
    // The reset goes with the first entity change, so it never commits ahead of them.
    this.#record({ kind: "reset-versions" }, changed[0]);
    for (const list of [changed, unchanged]) {
      for (const { entityType, entityId } of list) {
        const version = this.#confirmed.get(entityType, entityId);
        if (version) this.#recordVersion(version, list === changed ? version : undefined);
        // Gone from the room: its version is forgotten with its row's deletion, so a crash
        // between the two never reloads the row without the version that explains it.
        else
          this.#record(
            { kind: "forget-version", entityType, entityId },
            list === changed ? { entityType, entityId } : undefined,
          );
      }
    }
  }

  /** Records the cursor if it moved since it was last recorded (once per batch of entries). */
  recordCursor(): void {
    if (this.#cursor === this.#recordedCursor) return;
    this.#recordedCursor = this.#cursor;
    this.#record({ kind: "cursor", cursor: this.#cursor });
  }

  /** Keeps the limits a server announced (persisted: a later offline upsert is checked too). */
  learnLimits(limits: ServerLimits): void {
    const known = this.#limits;
    if (known.maxMessageBytes === limits.maxMessageBytes && known.maxDepth === limits.maxDepth)
      return;
    this.#limits = { maxMessageBytes: limits.maxMessageBytes, maxDepth: limits.maxDepth };
    this.#record({ kind: "limits", limits: this.#limits });
  }

  /** Applies one entry of the room's order: the new server version, then the rebased view. */
  #apply(entry: LogEntry): void {
    const version: ConfirmedVersion = {
      entityType: entry.entityType,
      entityId: entry.entityId,
      entity: entry.entity ?? null,
      vector: entry.vector,
      seq: entry.seq,
    };
    this.#confirmed.set(entry.entityType, entry.entityId, version);
    const mine = this.#take(entry.messageId) !== undefined;
    const changed = this.refresh(entry.entityType, entry.entityId);
    const entity = changed ? version : undefined;
    this.#recordVersion(version, entity);
    if (mine) this.#record({ kind: "outbox-remove", messageId: entry.messageId }, entity);
    if (!mine) {
      const change: RemoteChange = {
        operation: entry.operation,
        entityType: entry.entityType,
        entityId: entry.entityId,
        userId: entry.userId,
        seq: entry.seq,
      };
      if (entry.entity) change.entity = entry.entity;
      this.#host.emitChange(change);
      return;
    }
    if (entry.conflict) {
      this.#host.emitConflict({
        ...entry.conflict,
        entityType: entry.entityType,
        entityId: entry.entityId,
        messageId: entry.messageId,
        resolved: entry.entity ?? null,
      });
      this.#resolveManually(entry, entry.conflict);
    }
  }

  #resolveManually(entry: LogEntry, conflict: ConflictRecord): void {
    const resolver = this.#host.resolution.resolver;
    if (conflict.strategy !== "manual" || !resolver || !conflict.attempted || !entry.entity) return;
    // A newer local edit of the same entity is still on its way: it supersedes this one.
    if (this.#isPending(entry.entityType, entry.entityId)) return;
    try {
      const resolved = resolver(conflict.attempted, entry.entity);
      // Keeping the server's version needs no change (the store already shows it).
      if (deepEqual(resolved, entry.entity)) return;
      // Written locally, so it goes out as a new change made on the server's version.
      this.#host.store.collection(entry.entityType).upsert(entry.entityId, resolved as never);
    } catch (cause) {
      this.#host.emitError(
        new KalphiteSyncError(
          `The manual conflict resolver failed for ${entry.entityType} "${entry.entityId}": ${(cause as Error).message}`,
          { code: "resolver-failed", cause },
        ),
      );
    }
  }

  /**
   * Makes the store show the server's version with this client's pending edits on top. True
   * when that changed the store (the sync state then commits with the entity's row).
   */
  refresh(entityType: string, entityId: string): boolean {
    const store = this.#host.store;
    const key = entityKey(entityType, entityId);
    const newest = this.#pendingByEntity.get(key)?.at(-1);
    const desired: Entity | null = newest
      ? (newest.entity ?? null)
      : (this.#confirmed.get(entityType, entityId)?.entity ?? null);
    const current = peekEntity(store.collection(entityType), entityId);
    try {
      if (desired === null) {
        if (current === undefined) return false;
        store.apply([{ operation: "delete", entityType, entityId }], "remote");
        return true;
      }
      if (current !== undefined && (current === desired || deepEqual(current, desired)))
        return false;
      store.apply([{ operation: "upsert", entityType, entityId, entity: desired }], "remote");
      return true;
    } catch (cause) {
      this.#host.emitError(
        new KalphiteSyncError(
          `The server's ${entityType} "${entityId}" does not pass this client's schema: ${(cause as Error).message}`,
          { code: "invalid-entity", cause },
        ),
      );
      return false;
    }
  }

  #record(delta: SyncDelta, entity?: DeltaEntity): void {
    this.#host.persistence?.record(delta, entity);
  }

  /**
   * Records a confirmed version. Its entity is left to the store's (the row) when the store shows
   * exactly it and no local edit is pending; a later local edit records it explicitly.
   */
  #recordVersion(version: Marked, entity?: DeltaEntity): void {
    if (!this.#host.persistence) return;
    const shown =
      version.entity !== null &&
      !this.#isPending(version.entityType, version.entityId) &&
      peekEntity(this.#host.store.collection(version.entityType), version.entityId) !== undefined;
    version[SHOWN] = shown;
    this.#record({ kind: "version", version, shown }, entity);
  }
}

/** The `data` fields that differ between two versions, or undefined when unknown. */
function changedDataFields(
  previous: Entity | undefined,
  next: Entity | undefined,
): string[] | undefined {
  const a = (previous as { data?: unknown } | undefined)?.data;
  const b = (next as { data?: unknown } | undefined)?.data;
  if (!a || !b || typeof a !== "object" || typeof b !== "object") return undefined;
  const fields = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...fields].filter(
    (f) => !deepEqual((a as Record<string, unknown>)[f], (b as Record<string, unknown>)[f]),
  );
}
