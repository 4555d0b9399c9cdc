import { entityKey } from "../../core/entity-key.js";
import type { ChangeInput, Entity, StoreApi, StoreChange } from "../../core/index.js";
import { applyWithMessageIds } from "../chosen-message-ids.js";
import { deepEqual } from "../deep-equal.js";
import { changesOnCurrent } from "./forwarded-changes.js";
import {
  type ForwardedWrite,
  isTabMessage,
  openTabChannel,
  randomTabId,
  snapshotParts,
  type TabChannel,
  type TabMessage,
} from "./messages.js";
import type { TabSnapshotCache } from "./snapshot-cache.js";

/** Options of `serveTabs()`. */
export interface TabLeaderOptions<E extends Entity = Entity> {
  /** The leader's store: the one persisted to the database and synced with the server. */
  store: StoreApi<E>;
  /** The database's name: the tabs of one name (and origin) share one leader. */
  name: string;
  /**
   * Resolves once every change made so far is durable (the database committed it, and the sync
   * outbox holds it). A follower's write is confirmed to it only after this resolves, so a
   * follower resends what a leader that went away had not made durable.
   */
  durable: () => Promise<void>;
  /**
   * What the tabs talk over.
   * @default new BroadcastChannel(`kalphite-tabs:${name}`)
   */
  channel?: TabChannel;
  /**
   * Receives what went wrong while serving (a write the database could not make durable).
   * @default console.error
   */
  onError?: (error: unknown) => void;
  /**
   * Kept up to date with the store (all of it now, then each change), for tabs to show when
   * they start before a leader is up (see `TabMirrorOptions.cache`).
   * @default undefined (no cache)
   */
  cache?: TabSnapshotCache;
}

/** How long after a failed durable point the leader tries again to confirm the writes it holds. */
const RETRY_CONFIRM_MS = 2000;

/** How many of the latest write ids the leader remembers, to make a write heard twice once. */
const RECEIVED_KEPT = 10_000;

/** How long the leader gathers its store's changes before writing them to the snapshot cache. */
const CACHE_WRITE_MS = 250;

/** The leader side of a database's tabs, from `serveTabs()`. */
export interface TabLeader {
  /** This leader's id (a new one per leader). */
  readonly id: string;
  /** Sends `state` (any structured-cloneable value) to every tab now and to every tab that joins later. */
  publish(state: unknown): void;
  /** Sends a one-off `event` to the tabs listening now. */
  notify(event: unknown): void;
  /** Stops serving: the store is left as it is; followers wait for the next leader. */
  close(): void;
}

/**
 * Serves the other tabs of a database from the tab (or worker) that won the election (see
 * `electTabLeader`) and owns the database and the server connection: every follower gets a
 * snapshot of the store, then each of its changes; a follower's writes are applied here as
 * `local` writes (so they are persisted and sent to the server by this tab) and confirmed to it
 * once `durable()` resolves. A write resent to a new leader that the old one had already made
 * durable finds its changes in the store already and is confirmed without being made twice; one
 * the old leader had sent to the server goes again under the same message ids, and the server
 * answers it with what it stored. A write heard twice by one leader is made once. A follower's
 * write is made on the follower's version: only the fields it changed are written over this
 * store's version (another user's edit of another field, not yet at the follower, stays).
 *
 * @example
 * const elected = await electTabLeader({ name: "idb://review" });
 * const db = new FrontendDatabase({ dbName: "idb://review", schema: Entity, lock: "wait" });
 * const persistence = await persist(store, db);
 * const engine = new NetworkSyncEngine({ ..., store, database: db });
 * const leader = serveTabs({ store, name: "idb://review",
 *   durable: () => Promise.all([persistence.flush(), engine.whenPersisted()]).then(() => {}) });
 * leader.publish({ connection: engine.getConnectionStatus() });
 */
export function serveTabs<E extends Entity>(options: TabLeaderOptions<E>): TabLeader {
  const { durable } = options;
  // Entities pass through untouched: the type of each is only read, never narrowed.
  const store = options.store as unknown as StoreApi<Entity>;
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const channel = options.channel ?? openTabChannel(options.name);
  const id = randomTabId();
  let state: unknown;
  let closed = false;
  const post = (message: TabMessage) => {
    if (!closed) channel.postMessage(message);
  };

  // Changes go out once per task, in the order the store made them.
  let outgoing: ChangeInput[] = [];
  const flushOutgoing = () => {
    const changes = outgoing;
    outgoing = [];
    if (changes.length > 0) post({ kind: "changes", leader: id, changes });
  };
  const stopCache = keepCache(options.cache, store, onError);
  const stopChanges = store.onChange((change: StoreChange<Entity>) => {
    if (outgoing.length === 0) queueMicrotask(flushOutgoing);
    outgoing.push(toInput(change));
  });

  // Writes are applied at once and confirmed in arrival order, after the next durable point.
  const received = new Set<string>();
  let confirmations: Promise<void> = Promise.resolve();
  const receiveWrites = (tab: string, writes: ForwardedWrite[]) => {
    const applied: string[] = [];
    for (const write of writes) {
      // Heard already (posted before the follower knew this leader, then resent to it): made
      // once, confirmed again.
      if (received.has(write.id)) {
        applied.push(write.id);
        continue;
      }
      received.add(write.id);
      if (received.size > RECEIVED_KEPT) received.delete(received.values().next().value!);
      try {
        // Each change goes to the server under an id made from the write's: a resend to a
        // later leader of a change the server stored is answered with the stored entry.
        const changes: ChangeInput[] = [];
        const messageIds: string[] = [];
        changesOnCurrent(store, write.changes).forEach((change, i) => {
          if (alreadyApplied(store, change)) return;
          changes.push(change);
          messageIds.push(`${write.id}:${i}`);
        });
        if (changes.length > 0) applyWithMessageIds(store, changes, messageIds);
        applied.push(write.id);
      } catch (error) {
        // The changes broadcast so far go first, then what this store holds of each entity.
        flushOutgoing();
        const current = currentVersions(store, write.changes);
        post({
          kind: "refused",
          leader: id,
          to: tab,
          id: write.id,
          reason: String(error),
          current,
        });
      }
    }
    if (applied.length === 0) return;
    // The broadcast of these changes goes first: the follower then knows the leader's version
    // of every entity it wrote before it stops holding its own.
    flushOutgoing();
    for (const writeId of applied) unconfirmed.push({ tab, id: writeId });
    confirm();
  };

  // Writes applied here and not yet confirmed, in order. A durable point confirms those
  // received before it began; when it fails, they wait for the next one, tried again every
  // `RETRY_CONFIRM_MS` (the changes stay in this store and its flush queue meanwhile), so a
  // follower is not left waiting for a write that was saved after all.
  let unconfirmed: { tab: string; id: string }[] = [];
  let retry: ReturnType<typeof setTimeout> | undefined;
  const confirm = () => {
    confirmations = confirmations.then(async () => {
      const batch = unconfirmed;
      unconfirmed = [];
      if (batch.length === 0 || closed) return;
      try {
        await durable();
      } catch (error) {
        unconfirmed = [...batch, ...unconfirmed];
        onError(error);
        retry ??= setTimeout(() => {
          retry = undefined;
          confirm();
        }, RETRY_CONFIRM_MS);
        return;
      }
      const byTab = new Map<string, string[]>();
      for (const write of batch) {
        const ids = byTab.get(write.tab);
        if (ids) ids.push(write.id);
        else byTab.set(write.tab, [write.id]);
      }
      for (const [to, ids] of byTab) post({ kind: "ack", leader: id, to, ids });
    });
  };

  const onMessage = ({ data }: { data: unknown }) => {
    if (!isTabMessage(data)) return;
    if (data.kind === "hello") {
      flushOutgoing();
      const parts = snapshotParts(store.entities());
      parts.forEach((entities, i) => {
        const done = i === parts.length - 1;
        post({ kind: "snapshot", leader: id, to: data.tab, entities, state, done });
      });
    } else if (data.kind === "write") {
      receiveWrites(data.tab, data.writes);
    }
  };
  channel.addEventListener("message", onMessage);
  post({ kind: "leader", leader: id });

  return {
    id,
    publish(next) {
      state = next;
      post({ kind: "state", leader: id, state });
    },
    notify(event) {
      post({ kind: "event", leader: id, event });
    },
    close() {
      if (closed) return;
      flushOutgoing();
      closed = true;
      if (retry !== undefined) clearTimeout(retry);
      stopChanges();
      stopCache();
      channel.removeEventListener("message", onMessage);
      if (!options.channel) channel.close();
    },
  };
}

/**
 * Sends `entities` to the tabs of database `name` as a preview: what a tab about to lead has
 * before its database is open (the server's copy on a first visit). A tab that has no leader's
 * snapshot yet shows it (`TabMirror.shown`); the leader's snapshot replaces it.
 */
export function previewTabs(options: {
  name: string;
  entities: readonly Entity[];
  channel?: TabChannel;
}): void {
  const channel = options.channel ?? openTabChannel(options.name);
  const parts = snapshotParts(options.entities);
  parts.forEach((entities, i) => {
    const done = i === parts.length - 1;
    channel.postMessage({ kind: "preview", entities, done } satisfies TabMessage);
  });
  if (!options.channel) channel.close();
}

/** Writes the whole store to `cache`, then its changes every `CACHE_WRITE_MS`; returns the stop. */
function keepCache(
  cache: TabSnapshotCache | undefined,
  store: StoreApi<Entity>,
  onError: (error: unknown) => void,
): () => void {
  if (cache === undefined) return () => {};
  let writes = cache.replace(store.entities()).catch(onError);
  let queued: ChangeInput[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const writeQueued = () => {
    timer = undefined;
    const changes = queued;
    queued = [];
    writes = writes.then(() => cache.write(changes)).catch(onError);
  };
  const stop = store.onChange((change: StoreChange<Entity>) => {
    queued.push(toInput(change));
    timer ??= setTimeout(writeQueued, CACHE_WRITE_MS);
  });
  return () => {
    stop();
    if (timer !== undefined) clearTimeout(timer);
    if (queued.length > 0) writeQueued();
  };
}

function toInput(change: StoreChange<Entity>): ChangeInput {
  return change.operation === "upsert"
    ? {
        operation: "upsert",
        entityType: change.entityType,
        entityId: change.entityId,
        entity: change.entity,
      }
    : { operation: "delete", entityType: change.entityType, entityId: change.entityId };
}

/** What `store` holds of each entity `changes` touch: an upsert of it, or a delete. */
function currentVersions(store: StoreApi<Entity>, changes: readonly ChangeInput[]): ChangeInput[] {
  const current = new Map<string, ChangeInput>();
  for (const { entityType, entityId } of changes) {
    const entity = store.collection(entityType).findById(entityId);
    current.set(
      entityKey(entityType, entityId),
      entity === undefined
        ? { operation: "delete", entityType, entityId }
        : { operation: "upsert", entityType, entityId, entity },
    );
  }
  return [...current.values()];
}

/** Whether the store already holds what `change` would make (a write resent after a handover). */
function alreadyApplied(store: StoreApi<Entity>, change: ChangeInput): boolean {
  const current = store.collection(change.entityType).findById(change.entityId);
  return change.operation === "delete"
    ? current === undefined
    : current !== undefined && deepEqual(current, change.entity);
}
