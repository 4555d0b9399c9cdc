import { computed, type ReadonlySignal, signal } from "@preact/signals-core";
import type { Entity, StoreChange } from "../core/index.js";
import { KalphiteAuthError, KalphiteSyncError } from "../core/index.js";
import { addWriteCheck } from "../core/store.js";
import {
  type ClientMessage,
  entryFromChange,
  type LogEntry,
  newMessageId,
  PROTOCOL_VERSION,
  type ServerLimits,
  type ServerMessage,
  type SnapshotEntity,
  type SnapshotPage,
  type SyncErrorCode,
} from "../protocol/messages.js";
import { Connection, type ConnectionHandlers, type ConnectionStatus } from "./connection.js";
import { Emitter } from "./emitter.js";
import { checkSendable, utf8Length } from "./limits.js";
import {
  checkedOptions,
  conflictResolution,
  type NetworkSyncEngineOptions,
  type SyncClock,
  type SyncStore,
  type WebSocketConstructor,
} from "./options.js";
import { Pacer } from "./pacer.js";
import type { OutboxEntry, SyncPersistence } from "./persistence.js";
import { type RemoteChange, Replica, type SyncConflict } from "./replica.js";
import { Sender } from "./sender.js";
import type { ChangeMessage, ConflictResolution, SyncOptions } from "./types.js";

export type { ConnectionStatus } from "./connection.js";
export type {
  NetworkSyncEngineConfig,
  NetworkSyncEngineOptions,
  SendRate,
  SyncClock,
  SyncStore,
  WebSocketConstructor,
  WebSocketLike,
} from "./options.js";
export type { RemoteChange, SyncConflict } from "./replica.js";

/** The events of a NetworkSyncEngine. */
export interface SyncEvents {
  status: [status: ConnectionStatus, previous: ConnectionStatus];
  change: [change: RemoteChange];
  ack: [messageId: string, seq: number];
  conflict: [conflict: SyncConflict];
  error: [error: KalphiteSyncError];
  /** Joined and caught up to `head`. */
  synced: [head: number];
  /**
   * The server refused messages as `rate-limited` (it is over its `rateLimit`): sending pauses
   * for `pauseMs`, then goes on at a halved pace and resends what was refused. Flow control,
   * not a failure: nothing is lost. Once per slow-down, however many messages were refused.
   */
  throttled: [pauseMs: number];
  /**
   * The number `getOfflineQueueSize()` reports changed; also sent once when the saved outbox has
   * loaded (see `whenLoaded()`), even if the number did not change, so a counter can show it.
   */
  queue: [size: number];
  /**
   * A snapshot arriving in pages: how many entities are in so far, of `total` when known. The
   * store shows none of them until `done`.
   */
  snapshot: [progress: SnapshotProgress];
  /**
   * The server refused a change for good (its schema, its size, a forged vector): it left the
   * outbox and the entity shows the server's version again (see `refused`).
   */
  refused: [refusal: RefusedChange];
}

/** What `status` says (see `NetworkSyncEngine.status`). */
export type SyncStatus = "synced" | "pending" | "connecting" | "offline" | "refused";

/** A local change the server refused for good. */
export interface RefusedChange {
  messageId: string;
  operation: "upsert" | "delete";
  entityType: string;
  entityId: string;
  /** What this client tried to write (absent for a delete). */
  entity?: Entity;
  /** The server's reason; `error.code` is machine-readable (e.g. `"invalid-entity"`). */
  error: KalphiteSyncError;
}

/** Progress of a snapshot arriving in pages (the `snapshot` event). */
export interface SnapshotProgress {
  loaded: number;
  total?: number;
  done: boolean;
}

/** Refusals of a change that a resend may overcome (when the server does not say `permanent`). */
const RETRYABLE_CODES = new Set<SyncErrorCode>([
  "storage-failed",
  "server-closing",
  "not-joined",
  "rate-limited",
]);

const FATAL_CODES = new Set<SyncErrorCode>([
  "auth-failed",
  "forbidden-room",
  "forbidden-user",
  "unsupported-protocol",
]);

const realClock: SyncClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Syncs a KalphiteStore with a room on a Kalphite sync server.
 *
 * Local writes are queued in an outbox (persisted when `persistence`/`database` is given) and
 * sent; the server orders them, resolves concurrent edits, and sends every client the results,
 * which are written into the store with origin `remote`. Reads and writes never wait for it.
 *
 * @example
 * const engine = new NetworkSyncEngine({ wsUrl: "ws://localhost:8787", roomId: "pr-42", userId: "ann", authToken, store });
 * engine.on("status", (status) => console.log(status));
 * await engine.connect();
 */
export class NetworkSyncEngine extends Emitter<SyncEvents> {
  readonly #config: Required<
    Pick<
      SyncOptions,
      "wsUrl" | "roomId" | "userId" | "authToken" | "reconnectAttempts" | "heartbeatInterval"
    >
  >;
  readonly #store: SyncStore;
  readonly #resolution: ConflictResolution;
  readonly #persistence: SyncPersistence | undefined;
  readonly #replica: Replica;
  readonly #clock: SyncClock;
  readonly #createId: () => string;

  readonly #socket: Connection;
  /** Counts disconnect() calls: a connect() waiting for the load gives way to a later one. */
  #disconnects = 0;
  #headAtLastHeartbeat = 0;
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  readonly #pacer: Pacer;
  readonly #sender: Sender;
  readonly #acked = new Set<string>();

  readonly #loaded: Promise<void>;
  #isLoaded = false;
  /** Why the saved state could not be loaded; the engine then never connects (see `connect`). */
  #loadError: KalphiteSyncError | undefined;
  #beforeLoad: StoreChange[] = [];
  readonly #connection = signal<ConnectionStatus>("disconnected");
  readonly #queueSignal = signal(0);
  readonly #lastErrorSignal = signal<KalphiteSyncError | undefined>(undefined);
  readonly #refusedSignal = signal<readonly RefusedChange[]>([]);

  /**
   * Where sync stands, as a signal (read it in a `computed`, an effect or `useValue`):
   * `"synced"` (connected, nothing waiting), `"pending"` (connected, local changes waiting for
   * the server), `"connecting"`, `"offline"`, or `"refused"` (the server refused a change for
   * good: see `refused`; until `dismissRefused()`).
   *
   * @example effect(() => (badge.textContent = engine.status.value));
   */
  readonly status: ReadonlySignal<SyncStatus> = computed(() => {
    if (this.#refusedSignal.value.length > 0) return "refused";
    const connection = this.#connection.value;
    if (connection === "disconnected") return "offline";
    if (connection === "connecting") return "connecting";
    return this.#queueSignal.value > 0 ? "pending" : "synced";
  });
  /**
   * `getOfflineQueueSize()` as a signal: local changes not yet acknowledged.
   * @example const pending = computed(() => engine.queueSize.value);
   */
  readonly queueSize: ReadonlySignal<number> = this.#queueSignal;
  /**
   * The last error the engine reported on `error`, or undefined.
   * @example effect(() => engine.lastError.value && toast(engine.lastError.value.message));
   */
  readonly lastError: ReadonlySignal<KalphiteSyncError | undefined> = this.#lastErrorSignal;
  /**
   * The changes the server refused for good since the last `dismissRefused()`, oldest first.
   * Each left the outbox, and the store shows the server's version of its entity again.
   * @example effect(() => engine.refused.value.forEach((r) => warn(r.entityId, r.error.message)));
   */
  readonly refused: ReadonlySignal<readonly RefusedChange[]> = this.#refusedSignal;

  /** The pages of a snapshot still loading (see `#catchUp`). */
  #snapshotPages:
    | {
        head: number;
        versions: SnapshotEntity[];
        total: number | undefined;
        /** The `snapshotFrom` of the one page request in flight. */
        requested: string;
      }
    | undefined;
  /** The size the last `queue` event announced. */
  #queueSize = 0;
  readonly #unsubscribe: () => void;

  constructor(config: NetworkSyncEngineOptions) {
    super();
    const options = checkedOptions(config);
    this.#config = {
      wsUrl: config.wsUrl,
      roomId: config.roomId,
      userId: config.userId,
      authToken: config.authToken ?? "",
      reconnectAttempts: options.reconnectAttempts,
      heartbeatInterval: options.heartbeatInterval,
    };
    this.#store = config.store as SyncStore;
    this.#resolution = conflictResolution(config.conflictResolution);
    this.#persistence = config.persistence ?? config.database?.syncState(config.roomId);
    this.#replica = new Replica({
      store: this.#store,
      persistence: this.#persistence,
      userId: config.userId,
      resolution: this.#resolution,
      createId: () => this.#createId(),
      now: () => this.#clock.now(),
      emitChange: (change) => this.emit("change", change),
      emitConflict: (conflict) => this.emit("conflict", conflict),
      emitError: (error) => this.emit("error", error),
      forget: (entry) => this.#sender.forget(entry.messageId),
    });
    this.#clock = config.clock ?? realClock;
    this.#createId = config.createMessageId ?? newMessageId;
    this.#socket = new Connection(
      {
        wsUrl: config.wsUrl,
        WebSocket:
          config.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket,
        clock: this.#clock,
        random: config.random ?? Math.random,
        heartbeatInterval: options.heartbeatInterval,
        reconnectAttempts: options.reconnectAttempts,
        reconnectDelay: options.reconnectDelay,
        maxReconnectDelay: options.maxReconnectDelay,
      },
      this.#connectionHandlers(),
    );
    this.#pacer = new Pacer(options.messagesPerSecond, options.burst);
    this.#sender = new Sender({
      clock: this.#clock,
      pacer: this.#pacer,
      userId: config.userId,
      joined: () => this.#socket.joined,
      outbox: () => this.#replica.outbox,
      send: (message) => this.#send(message as ClientMessage),
      throttled: (pauseMs) => this.emit("throttled", pauseMs),
    });
    const stopChecking = addWriteCheck(config.store, (entity) => this.#checkWrite(entity));
    const stopListening = this.#store.onChange((change) => this.#onStoreChange(change));
    this.#unsubscribe = () => {
      stopChecking();
      stopListening();
    };
    this.#loaded = this.#load();
  }

  /**
   * Connects and joins the room; resolves once caught up. Rejects with `KalphiteAuthError` if the
   * server refuses the credentials or room, or `KalphiteSyncError` when every reconnect attempt
   * failed, or (`persistence-failed`) when the saved sync state could not be loaded: joining on
   * an empty state would overwrite the unsent changes it holds. Local writes keep working (and queue) whatever happens here.
   *
   * @example await engine.connect();
   */
  async connect(): Promise<void> {
    const disconnects = this.#disconnects;
    await this.#loaded;
    if (this.#loadError) throw this.#loadError;
    if (disconnects !== this.#disconnects) {
      throw new KalphiteSyncError("disconnect() was called before the connection was ready.", {
        code: "disconnected",
      });
    }
    if (this.#socket.joined) return;
    const joined = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.#socket.start();
    return joined;
  }

  /**
   * Closes the connection and stops reconnecting. Local writes still queue in the outbox and go
   * out on the next `connect()`. Resolves when the sync state is persisted.
   *
   * @example await engine.disconnect();
   */
  async disconnect(): Promise<void> {
    this.#disconnects++;
    this.#socket.stop(1000, "client disconnect");
    this.#rejectWaiters(
      new KalphiteSyncError("disconnect() was called before the connection was ready.", {
        code: "disconnected",
      }),
    );
    // A failure is reported on `error` (and by `whenPersisted()` to a caller that asks).
    await this.whenPersisted().catch(() => {});
  }

  /**
   * Disconnects and detaches from the store for good: later writes are not synced.
   *
   * @example await engine.destroy();
   */
  async destroy(): Promise<void> {
    this.#unsubscribe();
    await this.disconnect();
    this.removeAllListeners();
  }

  /**
   * Queues a change for the server (sent now if connected, else on reconnect). Writes made to the
   * store are queued automatically; call this only for changes made outside it. A change whose
   * `messageId` is already queued is ignored.
   *
   * @example engine.sendChange({ type: "change", messageId: "m1", userId: "ann", timestamp: Date.now(), payload: { operation: "delete", entityType: "comment", entityId: "c1", vector: {} } });
   */
  sendChange(change: ChangeMessage): void {
    if (this.#replica.has(change.messageId)) return;
    const p = change.payload;
    const entry: OutboxEntry = {
      messageId: change.messageId,
      timestamp: change.timestamp,
      operation: p.operation,
      entityType: p.entityType,
      entityId: p.entityId,
      vector: p.vector,
      strategy: p.strategy ?? this.#resolution.strategy,
    };
    if (p.entity) entry.entity = p.entity;
    if (p.changedFields) entry.changedFields = p.changedFields;
    this.#enqueue(entry);
  }

  /**
   * Forgets the refusals in `refused` (the user has seen them): `status` leaves `"refused"`.
   * @example engine.dismissRefused();
   */
  dismissRefused(): void {
    this.#refusedSignal.value = [];
  }

  override emit<K extends keyof SyncEvents>(event: K, ...args: SyncEvents[K]): boolean {
    if (event === "error") this.#lastErrorSignal.value = args[0] as KalphiteSyncError;
    return super.emit(event, ...args);
  }

  /** `"connected"` once joined, `"connecting"` while (re)connecting, else `"disconnected"`. */
  getConnectionStatus(): ConnectionStatus {
    return this.#socket.status;
  }

  /**
   * Local changes not yet acknowledged by the server. With `persistence` or `database`, the saved
   * outbox loads asynchronously after construction; until `whenLoaded()` resolves this counts only
   * the changes made since. The `queue` event announces every change of this number, and the
   * loaded count once loading is done.
   *
   * @example await engine.whenLoaded(); showPending(engine.getOfflineQueueSize());
   */
  getOfflineQueueSize(): number {
    return this.#replica.outbox.length + this.#beforeLoad.length;
  }

  /**
   * Resolves once the saved sync state (outbox, cursor, server versions) has been loaded from
   * `persistence`/`database` and re-applied to the store: from then on `getOfflineQueueSize()` and
   * `getOutbox()` include the changes saved by earlier runs. Never rejects: a failed load is
   * reported on `error` and the engine starts empty. `connect()` waits for it too.
   *
   * @example
   * const engine = new NetworkSyncEngine({ ...config, database: db });
   * engine.on("queue", (size) => render(size)); // also fires once when loaded
   * await engine.whenLoaded();
   * engine.getOfflineQueueSize(); // includes the outbox saved before the reload
   */
  whenLoaded(): Promise<void> {
    return this.#loaded;
  }

  /** The last position in the room's order this client has applied. */
  getCursor(): number {
    return this.#replica.cursor;
  }

  /** The unacknowledged local changes, oldest first. */
  getOutbox(): readonly OutboxEntry[] {
    return this.#replica.outbox;
  }

  /**
   * Resolves once the sync state recorded so far (outbox, cursor, versions) is committed: with
   * `persistence.flush()`, the durability point of a write. Rejects with a `KalphiteSyncError`
   * (`persistence-failed`, also emitted on `error`) when it could not be written, so a caller
   * never takes an unsaved change for a saved one.
   *
   * @example store.comment.upsert("c1", c); await engine.whenPersisted();
   */
  async whenPersisted(): Promise<void> {
    await this.#loaded;
    try {
      await this.#persistence?.flush();
    } catch (cause) {
      const error = new KalphiteSyncError(
        `Could not persist the sync state: ${(cause as Error).message}`,
        { code: "persistence-failed", cause },
      );
      this.emit("error", error);
      throw error;
    }
  }

  // #region local changes

  /** Refuses at `upsert` what could never be sent under the last known limits. */
  #checkWrite(entity: Entity): void {
    const vector = this.#replica.confirmed(entity.type, entity.id)?.vector;
    const vectorBytes = vector
      ? JSON.stringify(vector).length + 2 * this.#config.userId.length
      : 64;
    checkSendable(entity, this.#replica.limits, {
      vectorBytes: vectorBytes + this.#config.userId.length,
    });
  }

  /** The limits this client checks writes against: the server's last announced, or the defaults. */
  getLimits(): ServerLimits {
    return this.#replica.limits;
  }

  #onStoreChange(change: StoreChange): void {
    if (change.origin !== "local") return;
    if (!this.#isLoaded) {
      this.#beforeLoad.push(change);
      this.#emitQueueSize();
      return;
    }
    this.#enqueue(this.#replica.entryFor(change), true);
  }

  /** Adds to the outbox and sends it when joined; `fromStore` for a store change. */
  #enqueue(entry: OutboxEntry, fromStore = false): void {
    this.#replica.add(entry, fromStore);
    this.#outboxChanged();
    if (this.#socket.joined) this.#sender.send(entry);
  }

  // #endregion

  // #region connection

  #connectionHandlers(): ConnectionHandlers {
    return {
      opened: () =>
        this.#send({
          type: "hello",
          payload: {
            protocol: PROTOCOL_VERSION,
            roomId: this.#config.roomId,
            token: this.#config.authToken,
            cursor: this.#replica.cursor,
          },
          timestamp: this.#clock.now(),
          userId: this.#config.userId,
          messageId: this.#createId(),
        }),
      received: (messages) =>
        this.#store.batch(() => {
          for (const message of messages) {
            // A message may end the connection (a fatal error): the rest belonged to it.
            if (!this.#socket.open) return;
            this.#handle(message);
          }
        }),
      malformed: (error) => this.emit("error", error),
      heartbeat: (now) => this.#heartbeat(now),
      closed: (code) => this.#closed(code),
      status: (status, previous) => {
        this.#connection.value = status;
        this.emit("status", status, previous);
      },
      gaveUp: (error, emit) => {
        if (emit) this.emit("error", error);
        this.#rejectWaiters(error);
      },
    };
  }

  #heartbeat(now: number): void {
    this.#send({
      type: "heartbeat",
      payload: { cursor: this.#replica.cursor },
      timestamp: now,
      userId: this.#config.userId,
      messageId: this.#createId(),
    });
    if (this.#socket.joined) this.#sender.resendStale(now, 2 * this.#config.heartbeatInterval);
  }

  /** The socket is gone: what was sent on it is forgotten (resent on the next one). */
  #closed(code: number | undefined): void {
    // 1009: a message was too large for the server. A change over its limit is refused for
    // good (resending it would close the connection again, forever).
    let tooLarge: [string, number][] = [];
    if (code === 1009) {
      const sent = this.#sender.sentBytes;
      tooLarge = [...sent].filter(([, bytes]) => bytes > this.#replica.limits.maxMessageBytes);
      // A server below the limits it announced (or announcing none): one change in flight is it.
      if (tooLarge.length === 0 && sent.size === 1) tooLarge = [...sent];
    }
    this.#snapshotPages = undefined;
    this.#headAtLastHeartbeat = 0;
    this.#sender.reset();
    for (const [messageId, bytes] of tooLarge) {
      this.#refuse(
        messageId,
        new KalphiteSyncError(
          `The server closed the connection (1009: message too large) on a ${bytes.toLocaleString("en")}-byte change: it was refused for good.`,
          { code: "message-too-large" },
        ),
      );
    }
  }

  #rejectWaiters(error: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  /** Sends a message if the socket is open; returns its size in bytes (0 when not sent). */
  #send(message: ClientMessage): number {
    if (!this.#socket.open) return 0;
    const text = JSON.stringify(message);
    if (!this.#socket.send(text)) return 0;
    // Every message counts against the server's rate limit, so against the pace too.
    this.#pacer.spend(this.#clock.now());
    return text.length * 3 <= this.#replica.limits.maxMessageBytes ? text.length : utf8Length(text);
  }

  // #endregion

  // #region server messages

  #handle(message: ServerMessage): void {
    switch (message.type) {
      case "welcome":
        this.#socket.joined = true;
        // A welcome starts the join afresh: pages of an earlier snapshot are not continued.
        this.#snapshotPages = undefined;
        if (message.payload.limits) this.#replica.learnLimits(message.payload.limits);
        this.#catchUp(message.payload);
        this.#socket.welcomed();
        // A new connection has a fresh budget on the server; the pace learned stays.
        this.#pacer.fresh(this.#clock.now());
        this.#sender.sendAll();
        for (const waiter of this.#waiters.splice(0)) waiter.resolve();
        this.emit("synced", message.payload.head);
        break;
      case "catch-up":
        this.#catchUp(message.payload);
        break;
      case "change":
        this.#receive(entryFromChange(message));
        break;
      case "ack":
      case "conflict":
        if (!this.#acked.has(message.payload.ackedId)) {
          this.#acked.add(message.payload.ackedId);
          if (this.#acked.size > 10_000) this.#acked.clear();
          this.emit("ack", message.payload.ackedId, message.payload.entry.seq);
        }
        if (message.payload.entry.seq <= this.#replica.cursor)
          this.#settledBySnapshot(message.payload.ackedId);
        else this.#receive(message.payload.entry);
        break;
      case "heartbeat": {
        // Fetch only what should have arrived by now: entries already committed at the previous
        // heartbeat. Entries committed since are normally on their way; fetching them too would
        // make every client re-download the stream under load.
        const head = message.payload.head;
        // While a snapshot arrives in pages the cursor waits for its last page.
        if (head !== undefined && this.#socket.joined && this.#snapshotPages === undefined) {
          if (this.#replica.cursor < this.#headAtLastHeartbeat) {
            this.#send({
              type: "fetch",
              payload: { after: this.#replica.cursor },
              timestamp: this.#clock.now(),
              userId: this.#config.userId,
              messageId: this.#createId(),
            });
          }
          this.#headAtLastHeartbeat = head;
        }
        break;
      }
      case "error":
        this.#onServerError(message.payload);
        break;
    }
  }

  #onServerError(payload: {
    code: SyncErrorCode;
    message: string;
    rejectedId?: string;
    permanent?: boolean;
    fatal?: boolean;
  }): void {
    if (payload.code === "rate-limited") {
      // Flow control, not a failure: slow down and resend (see `throttled`).
      this.#sender.throttle();
      return;
    }
    const isAuth = FATAL_CODES.has(payload.code);
    const error = isAuth
      ? new KalphiteAuthError(payload.message, { code: payload.code })
      : new KalphiteSyncError(payload.message, { code: payload.code });
    if (payload.fatal || isAuth) this.#socket.fatal = error;
    this.emit("error", error);
    // A change refused for good (the server's schema, its size, a forged vector) leaves the
    // outbox; one the server may still take (storage failed) is resent later. A server that does
    // not say `permanent` refuses for good whatever it does not call retryable.
    if (
      payload.rejectedId !== undefined &&
      (payload.permanent ?? !RETRYABLE_CODES.has(payload.code))
    )
      this.#refuse(payload.rejectedId, error);
  }

  /**
   * A change refused for good: out of the outbox, the entity back to the server's version, the
   * refusal announced (`refused` event and signal, `status` says so until `dismissRefused()`).
   */
  #refuse(messageId: string, error: KalphiteSyncError): void {
    const entry = this.#store.batch(() => this.#replica.drop(messageId));
    if (!entry) return;
    this.#outboxChanged();
    const refusal: RefusedChange = {
      messageId,
      operation: entry.operation,
      entityType: entry.entityType,
      entityId: entry.entityId,
      ...(entry.entity ? { entity: entry.entity } : {}),
      error,
    };
    this.#refusedSignal.value = [...this.#refusedSignal.value, refusal];
    this.emit("refused", refusal);
  }

  /**
   * An ack for a change whose seq this client already passed: a snapshot covered it (snapshots
   * carry versions, not message ids), so the change is done.
   */
  #settledBySnapshot(messageId: string): void {
    if (!this.#replica.has(messageId)) return;
    this.#store.batch(() => this.#replica.drop(messageId));
    this.#outboxChanged();
  }

  #catchUp(
    payload: { head: number; entries?: LogEntry[]; snapshot?: SnapshotEntity[] } & SnapshotPage,
  ): void {
    let snapshot = payload.snapshot;
    let snapshotHead = payload.head;
    let done: SnapshotProgress | undefined;
    if (snapshot) {
      // A snapshot in pages is shown only once its last page is in: never a half-loaded room.
      const paging = this.#snapshotPages;
      // Only the page asked for continues a snapshot; a first page only starts one. A page
      // answering an older request (a fetch sent before this snapshot began) is stale: mixing it
      // in would show a room assembled from two snapshots, and a mid-room page taken for a whole
      // room would delete the rest.
      if (paging ? payload.snapshotFrom !== paging.requested : payload.snapshotFrom !== undefined)
        return;
      if (paging) {
        for (const version of snapshot) paging.versions.push(version);
        snapshotHead = paging.head;
      }
      const loaded = paging?.versions.length ?? snapshot.length;
      const total = payload.snapshotTotal ?? paging?.total;
      if (payload.snapshotNext !== undefined) {
        const pages = paging ?? {
          head: payload.head,
          versions: [...snapshot],
          total,
          requested: payload.snapshotNext,
        };
        if (total !== undefined) pages.total = total;
        pages.requested = payload.snapshotNext;
        this.#snapshotPages = pages;
        this.emit("snapshot", { loaded, ...(total === undefined ? {} : { total }), done: false });
        this.#send({
          type: "fetch",
          payload: {
            after: this.#replica.cursor,
            snapshotFrom: payload.snapshotNext,
            snapshotHead,
          },
          timestamp: this.#clock.now(),
          userId: this.#config.userId,
          messageId: this.#createId(),
        });
        return;
      }
      if (paging) {
        snapshot = paging.versions;
        this.#snapshotPages = undefined;
      }
      if (paging || payload.snapshotTotal !== undefined)
        done = { loaded, ...(total === undefined ? {} : { total }), done: true };
    }
    this.#store.batch(() => {
      if (snapshot) this.#replica.applySnapshot(snapshot, snapshotHead);
      for (const entry of payload.entries ?? []) this.#replica.receive(entry);
      this.#replica.drain();
    });
    this.#outboxChanged();
    if (done) this.emit("snapshot", done);
    // A catch-up is paged: ask for the rest (not while a snapshot is paging: its page requests
    // are the one fetch in flight, and a fetch from an old cursor would start a second snapshot).
    if (
      this.#socket.joined &&
      this.#snapshotPages === undefined &&
      Math.max(payload.head, this.#replica.highestPending) > this.#replica.cursor &&
      !this.#replica.canDrain
    ) {
      this.#send({
        type: "fetch",
        payload: { after: this.#replica.cursor },
        timestamp: this.#clock.now(),
        userId: this.#config.userId,
        messageId: this.#createId(),
      });
    }
  }

  #receive(entry: LogEntry): void {
    if (!this.#replica.receive(entry)) return;
    if (!this.#socket.joined) return; // the welcome's catch-up drains
    if (this.#replica.canDrain) {
      this.#store.batch(() => this.#replica.drain());
      this.#outboxChanged();
    }
  }

  // #endregion

  // #region persistence

  async #load(): Promise<void> {
    try {
      const state = await this.#persistence?.load();
      if (state) this.#replica.restore(state);
    } catch (cause) {
      this.#loadError = new KalphiteSyncError(
        `Could not load the sync state: ${(cause as Error).message}. Not connecting: a join on an empty state would replace the saved outbox and versions. Fix the database (or start on a new one) and create the engine again.`,
        { code: "persistence-failed", cause },
      );
      this.emit("error", this.#loadError);
    }
    this.#isLoaded = true;
    const early = this.#beforeLoad;
    this.#beforeLoad = [];
    // Not tied to their entity rows: those may have been committed before the load finished,
    // and a delta waiting for a row already written would hold back every delta after it.
    for (const change of early) this.#enqueue(this.#replica.entryFor(change));
    this.#emitQueueSize({ always: true });
  }

  /** After any change to the outbox or the cursor: record the cursor, announce the queue size. */
  #outboxChanged(): void {
    this.#replica.recordCursor();
    this.#emitQueueSize();
  }

  #emitQueueSize(options: { always: boolean } = { always: false }): void {
    const size = this.getOfflineQueueSize();
    this.#queueSignal.value = size;
    if (size === this.#queueSize && !options.always) return;
    this.#queueSize = size;
    this.emit("queue", size);
  }

  // #endregion
}
