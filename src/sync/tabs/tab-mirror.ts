import { type ReadonlySignal, signal } from "@preact/signals-core";
import { entityKey } from "../../core/entity-key.js";
import type { ChangeInput, Entity, StoreApi, StoreChange } from "../../core/index.js";
import { deepEqual } from "../deep-equal.js";
import {
  type ForwardedChange,
  type ForwardedWrite,
  isTabMessage,
  openTabChannel,
  randomTabId,
  type TabChannel,
  type TabMessage,
} from "./messages.js";
import type { TabSnapshotCache } from "./snapshot-cache.js";
import { tabInbox } from "./tab-inbox.js";

/** Options of `mirrorTabs()`. */
export interface TabMirrorOptions<E extends Entity = Entity> {
  /** This tab's store: shows the leader's, and its local writes go to the leader. */
  store: StoreApi<E>;
  /** The database's name, as given to the leader's `serveTabs()`. */
  name: string;
  /**
   * What the tabs talk over.
   * @default new BroadcastChannel(`kalphite-tabs:${name}`)
   */
  channel?: TabChannel;
  /**
   * Receives a write the leader refused (it failed validation there); the entity then shows the
   * leader's version again. Also a part of the leader's changes this tab's store refused (its
   * schema is not the leader's): the changes after it are applied all the same.
   * @default console.error
   */
  onError?: (error: Error) => void;
  /**
   * Changes from the leader that arrive within this many milliseconds are applied together, in
   * one `store.apply` (up to `changesPerTask` of them): one notification and one render per frame while a stream of changes
   * arrives (each of the leader's messages is its own task), instead of one per message. 0
   * applies each message as it arrives.
   * @default 16
   */
  applyEveryMs?: number;
  /**
   * At most this many of the leader's changes are applied in one task; a larger burst (another
   * client's thousand writes, a catch-up with the server) is applied in parts of this many, each
   * in a task of its own, so that the page renders and answers input between them instead of
   * being held for the whole burst. Every change is applied once and in order, and the leader's
   * messages after a burst (its state, the confirmation of this tab's writes) are handled only
   * once the burst is applied.
   * @default 25
   */
  changesPerTask?: number;
  /**
   * Shown at once (read when the mirror starts) until the leader's snapshot arrives: the copy
   * of the store a leader last kept there (see `TabLeaderOptions.cache`). Lets a tab show its
   * data while the leader still opens its database; `shown` resolves then.
   * @default undefined (no cache: the tab shows the leader's snapshot, or a preview it sends)
   */
  cache?: TabSnapshotCache;
}

/** A tab mirroring the leader's store, from `mirrorTabs()`. */
export interface TabMirror {
  /** This tab's id. */
  readonly id: string;
  /** Resolves with the first snapshot from a leader: the store then shows the leader's data. */
  readonly ready: Promise<void>;
  /**
   * Resolves once the store shows data: the leader's snapshot, or before it a preview (the
   * snapshot cache, or what a tab about to lead sent with `previewTabs`). Until `ready`, the
   * tab's writes are kept here and sent when the leader is up.
   */
  readonly shown: Promise<void>;
  /** The leader this tab follows, once one answered. */
  readonly leader: ReadonlySignal<string | undefined>;
  /** This tab's writes not yet durable in the leader's database (kept here, resent to a new leader). */
  readonly pending: ReadonlySignal<number>;
  /** The leader's published state (see `TabLeader.publish`). */
  readonly state: ReadonlySignal<unknown>;
  /** Calls `listener` with each event the leader sends (see `TabLeader.notify`); returns the unsubscribe. */
  onEvent(listener: (event: unknown) => void): () => void;
  /** Stops mirroring: unconfirmed writes are no longer resent from this tab. */
  close(): void;
}

/**
 * Mirrors the store of a database's leader tab (see `serveTabs`) into this tab's store, and
 * sends this tab's local writes to the leader, which persists them and syncs them with the
 * server. Every change from the leader is applied with origin `remote`. A write is kept here
 * until the leader confirms it durable; when the leader goes away, the next one gets every
 * unconfirmed write again (in order), so closing the leader's tab loses nothing another tab
 * wrote. While a write of this tab to an entity is unconfirmed, the tab shows its own version
 * of that entity, then the leader's.
 *
 * @example
 * const store = KalphiteStore(Entity);
 * const mirror = mirrorTabs({ store, name: "idb://review" });
 * await mirror.ready; // the store holds what the leader holds
 * store.comment.upsert("c1", comment); // sent to the leader, persisted and synced there
 */
export function mirrorTabs<E extends Entity>(options: TabMirrorOptions<E>): TabMirror {
  // Entities pass through untouched: the type of each is only read, never narrowed.
  const store = options.store as unknown as StoreApi<Entity>;
  const onError = options.onError ?? ((error: Error) => console.error(error));
  const applyEveryMs = options.applyEveryMs ?? 16;
  const channel = options.channel ?? openTabChannel(options.name);
  const id = randomTabId();
  const leader = signal<string | undefined>(undefined);
  const pendingCount = signal(0);
  const state = signal<unknown>(undefined);
  const eventListeners = new Set<(event: unknown) => void>();
  let closed = false;
  let snapshotFrom: string | undefined;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });
  let resolveShown!: () => void;
  const shown = new Promise<void>((resolve) => {
    resolveShown = resolve;
  });
  const post = (message: TabMessage) => {
    if (!closed) channel.postMessage(message);
  };

  // Unconfirmed writes in order, and per entity how many of them touch it. While an entity has
  // one, the leader's versions of it wait in `held` (the latest only) until the last is confirmed.
  const pending = new Map<string, ForwardedWrite>();
  const writesPerEntity = new Map<string, number>();
  const held = new Map<string, ChangeInput>();
  let writeCount = 0;

  const applyFromLeader = (changes: readonly ChangeInput[]) => {
    // The last change of each entity is what the leader holds; it alone is compared with what
    // this tab shows (an earlier one of the same batch would be compared with a stale row).
    const latest = new Map<string, ChangeInput>();
    for (const change of changes) {
      const key = entityKey(change.entityType, change.entityId);
      latest.delete(key);
      latest.set(key, change);
    }
    const effective: ChangeInput[] = [];
    for (const [key, change] of latest) {
      if (writesPerEntity.has(key)) held.set(key, change);
      else if (!alreadyShown(store, change)) effective.push(change);
    }
    applying = true;
    try {
      if (effective.length > 0) store.apply(effective, "remote");
    } finally {
      applying = false;
    }
  };

  // Local writes of one task go out as one write.
  let applying = false;
  let outgoing: ForwardedChange[] = [];
  const sendOutgoing = () => {
    const changes = outgoing;
    outgoing = [];
    if (changes.length === 0) return;
    const write: ForwardedWrite = { id: `${id}:${++writeCount}`, changes };
    pending.set(write.id, write);
    for (const change of changes) {
      const key = entityKey(change.entityType, change.entityId);
      writesPerEntity.set(key, (writesPerEntity.get(key) ?? 0) + 1);
    }
    pendingCount.value = pending.size;
    post({ kind: "write", tab: id, writes: [write] });
  };
  const stopChanges = store.onChange((change: StoreChange<Entity>) => {
    if (applying || change.origin !== "local") return;
    if (outgoing.length === 0) queueMicrotask(sendOutgoing);
    const { entityType, entityId, entity, previous } = change;
    // With the version it was made on: the leader may hold a newer one by now.
    outgoing.push(
      change.operation === "upsert"
        ? previous === undefined
          ? { operation: "upsert", entityType, entityId, entity }
          : { operation: "upsert", entityType, entityId, entity, previous }
        : { operation: "delete", entityType, entityId },
    );
  });

  const confirm = (writeId: string) => {
    const write = pending.get(writeId);
    if (!write) return;
    pending.delete(writeId);
    const released: ChangeInput[] = [];
    for (const change of write.changes) {
      const key = entityKey(change.entityType, change.entityId);
      const left = (writesPerEntity.get(key) ?? 1) - 1;
      if (left > 0) {
        writesPerEntity.set(key, left);
        continue;
      }
      writesPerEntity.delete(key);
      const latest = held.get(key);
      if (latest) {
        held.delete(key);
        released.push(latest);
      }
    }
    applyFromLeader(released);
    pendingCount.value = pending.size;
  };

  // A snapshot (or preview) comes in parts, each applied in its own task: its entities now,
  // and with the last part the removal of every entity no part had.
  const applySnapshotPart = (entities: unknown[], present: Set<string>) => {
    const changes: ChangeInput[] = [];
    for (const entity of entities as Entity[]) {
      present.add(entityKey(entity.type, entity.id));
      changes.push({ operation: "upsert", entityType: entity.type, entityId: entity.id, entity });
    }
    applyFromLeader(changes);
  };
  const finishSnapshot = (present: Set<string>) => {
    const changes: ChangeInput[] = [];
    for (const entity of store.entities()) {
      if (!present.has(entityKey(entity.type, entity.id)))
        changes.push({ operation: "delete", entityType: entity.type, entityId: entity.id });
    }
    applyFromLeader(changes);
  };
  /** The keys of the snapshot or preview being received, until its last part. */
  let snapshotKeys: Set<string> | undefined;
  let previewKeys: Set<string> | undefined;

  /** Whether a preview may still be shown: no leader's snapshot has begun. */
  const previewing = () => !closed && snapshotFrom === undefined;

  /** Shows the snapshot cache's copy, a page per task, unless the leader's snapshot comes first. */
  const showCache = async (cache: TabSnapshotCache) => {
    if (!(await cache.written())) return;
    const present = new Set<string>();
    for await (const page of cache.pages()) {
      if (!previewing()) return;
      applySnapshotPart(page, present);
    }
    if (!previewing()) return;
    finishSnapshot(present);
    resolveShown();
  };

  /** Follows a leader heard of for the first time; `snapshot` when it is already sending one. */
  const follow = (leaderId: string, snapshot = false) => {
    if (leader.peek() === leaderId) return;
    leader.value = leaderId;
    snapshotFrom = undefined;
    if (!snapshot) post({ kind: "hello", tab: id });
    // A new leader knows nothing of what this tab sent the last one: everything unconfirmed
    // goes again, in order (the leader skips what its database already has).
    if (pending.size > 0) post({ kind: "write", tab: id, writes: [...pending.values()] });
  };

  const handle = (data: Exclude<TabMessage, { kind: "changes" }>) => {
    switch (data.kind) {
      case "leader":
        follow(data.leader);
        break;
      case "snapshot":
        if (data.to !== id) break;
        // The first leader's answer to this tab's hello: its "leader" came before this tab listened.
        if (leader.peek() === undefined) follow(data.leader, true);
        if (data.leader !== leader.peek()) break;
        if (snapshotFrom !== data.leader) snapshotKeys = undefined;
        snapshotFrom = data.leader;
        snapshotKeys ??= new Set();
        applySnapshotPart(data.entities, snapshotKeys);
        if (!data.done) break;
        finishSnapshot(snapshotKeys);
        snapshotKeys = undefined;
        state.value = data.state;
        resolveReady();
        resolveShown();
        break;
      case "preview":
        if (!previewing()) break;
        previewKeys ??= new Set();
        applySnapshotPart(data.entities, previewKeys);
        if (!data.done) break;
        finishSnapshot(previewKeys);
        previewKeys = undefined;
        resolveShown();
        break;
      case "state":
        if (data.leader === snapshotFrom) state.value = data.state;
        break;
      case "event":
        for (const listener of eventListeners) listener(data.event);
        break;
      case "ack":
        if (data.to === id) for (const writeId of data.ids) confirm(writeId);
        break;
      case "refused":
        if (data.to !== id) break;
        onError(new Error(`The leader tab refused a write of this tab: ${data.reason}`));
        // The leader never held the write: its versions replace this tab's, as it confirms.
        for (const change of data.current) {
          const key = entityKey(change.entityType, change.entityId);
          if (writesPerEntity.has(key)) held.set(key, change);
        }
        confirm(data.id);
        break;
    }
  };
  // The leader's messages in order, its changes gathered for `applyEveryMs` and applied in
  // parts of `changesPerTask`, a task each (see tabInbox).
  const inbox = tabInbox({
    applyEveryMs,
    changesPerTask: options.changesPerTask ?? 25,
    changesOf: (data) => (data.leader === snapshotFrom ? data.changes : []),
    apply: applyFromLeader,
    handle,
    onError,
  });
  const onMessage = ({ data }: { data: unknown }) => {
    if (isTabMessage(data)) inbox.push(data);
  };
  channel.addEventListener("message", onMessage);
  post({ kind: "hello", tab: id });
  // No cache to show (or none readable): the tab waits for the leader, as without one.
  if (options.cache) showCache(options.cache).catch(() => {});

  return {
    id,
    ready,
    shown,
    leader,
    pending: pendingCount,
    state,
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    close() {
      if (closed) return;
      inbox.drain();
      inbox.close();
      sendOutgoing();
      closed = true;
      stopChanges();
      channel.removeEventListener("message", onMessage);
      if (!options.channel) channel.close();
    },
  };
}

/** Whether the store shows `change` already (the echo of this tab's own write, an unchanged row). */
function alreadyShown(store: StoreApi<Entity>, change: ChangeInput): boolean {
  const current = store.collection(change.entityType).findById(change.entityId);
  return change.operation === "delete"
    ? current === undefined
    : current !== undefined && deepEqual(current, change.entity);
}
