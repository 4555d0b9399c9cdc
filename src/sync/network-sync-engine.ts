import { computed, type ReadonlySignal, signal } from "@preact/signals-core";
import { KalphiteSyncError, KalphiteUsageError } from "../core/index.js";
import { addWriteCheck } from "../core/store.js";
import {
  type ClientMessage,
  entryFromChange,
  newMessageId,
  PROTOCOL_VERSION,
  type ServerLimits,
  type ServerMessage,
} from "../protocol/messages.js";
import { CatchUp, type FetchRequest } from "./catch-up.js";
import { Connection, type ConnectionHandlers, type ConnectionStatus } from "./connection.js";
import { Emitter } from "./emitter.js";
import { utf8Length } from "./limits.js";
import { LocalQueue } from "./local-queue.js";
import {
  checkedOptions,
  conflictResolution,
  type NetworkSyncEngineOptions,
  REAL_CLOCK,
  type SyncClock,
  type SyncStore,
  type WebSocketConstructor,
} from "./options.js";
import { Pacer } from "./pacer.js";
import type { OutboxEntry, SyncPersistence } from "./persistence.js";
import { Refusals } from "./refusals.js";
import { Replica } from "./replica.js";
import { Sender } from "./sender.js";
import type { RefusedChange, SyncEvents, SyncStatus } from "./sync-events.js";
import type { ChangeMessage, SyncOptions } from "./types.js";

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
  readonly #config: Required<Pick<SyncOptions, "roomId" | "userId" | "authToken">> & {
    heartbeatInterval: number;
  };
  readonly #store: SyncStore;
  readonly #persistence: SyncPersistence | undefined;
  readonly #replica: Replica;
  readonly #catchUp: CatchUp;
  readonly #refusals: Refusals;
  readonly #queue: LocalQueue;
  readonly #clock: SyncClock;
  readonly #createId: () => string;
  readonly #socket: Connection;
  /** Counts disconnect() calls: a connect() waiting for the load gives way to a later one. */
  #disconnects = 0;
  /** Set by `destroy()`: the engine no longer listens to the store, so it must not connect again. */
  #destroyed = false;
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  readonly #pacer: Pacer;
  readonly #sender: Sender;
  readonly #acked = new Set<string>();

  readonly #loaded: Promise<void>;
  /** Why the saved state could not be loaded; the engine then never connects (see `connect`). */
  #loadError: KalphiteSyncError | undefined;
  readonly #connection = signal<ConnectionStatus>("disconnected");
  readonly #lastErrorSignal = signal<KalphiteSyncError | undefined>(undefined);

  /**
   * Where sync stands, as a signal (read it in a `computed`, an effect or `useValue`):
   * `"synced"` (connected, nothing waiting), `"pending"` (connected, local changes waiting for
   * the server), `"connecting"`, `"offline"`, or `"refused"` (the server refused a change for
   * good: see `refused`; until `dismissRefused()`).
   *
   * @example effect(() => (badge.textContent = engine.status.value));
   */
  readonly status: ReadonlySignal<SyncStatus> = computed(() => {
    if (this.#refusals.list.value.length > 0) return "refused";
    const connection = this.#connection.value;
    if (connection === "disconnected") return "offline";
    if (connection === "connecting") return "connecting";
    return this.#queue.size.value > 0 ? "pending" : "synced";
  });
  /**
   * `getOfflineQueueSize()` as a signal: local changes not yet acknowledged.
   * @example const pending = computed(() => engine.queueSize.value);
   */
  readonly queueSize: ReadonlySignal<number>;
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
  readonly refused: ReadonlySignal<readonly RefusedChange[]>;

  /** The size the last `queue` event announced. */
  readonly #unsubscribe: () => void;

  constructor(config: NetworkSyncEngineOptions) {
    super();
    const options = checkedOptions(config);
    this.#config = {
      roomId: config.roomId,
      userId: config.userId,
      authToken: config.authToken ?? "",
      heartbeatInterval: options.heartbeatInterval,
    };
    this.#store = config.store as SyncStore;
    const resolution = conflictResolution(config.conflictResolution);
    this.#persistence = config.persistence ?? config.database?.syncState(config.roomId);
    this.#replica = new Replica({
      store: this.#store,
      persistence: this.#persistence,
      userId: config.userId,
      resolution,
      createId: () => this.#createId(),
      now: () => this.#clock.now(),
      emitChange: (change) => this.emit("change", change),
      emitConflict: (conflict) => this.emit("conflict", conflict),
      emitError: (error) => this.emit("error", error),
      forget: (entry) => this.#sender.forget(entry.messageId),
    });
    this.#catchUp = new CatchUp({
      replica: this.#replica,
      store: this.#store,
      joined: () => this.#socket.joined,
      fetch: (payload) => this.#fetch(payload),
      snapshot: (progress) => this.emit("snapshot", progress),
      outboxChanged: () => this.#outboxChanged(),
    });
    this.#clock = config.clock ?? REAL_CLOCK;
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
    this.#refusals = new Refusals({
      store: this.#store,
      replica: this.#replica,
      sender: this.#sender,
      fatal: (error) => {
        this.#socket.fatal = error;
      },
      error: (error) => this.emit("error", error),
      refused: (refusal) => this.emit("refused", refusal),
      outboxChanged: () => this.#outboxChanged(),
    });
    this.refused = this.#refusals.list;
    this.#queue = new LocalQueue({
      store: config.store,
      replica: this.#replica,
      sender: this.#sender,
      userId: config.userId,
      strategy: resolution.strategy,
      joined: () => this.#socket.joined,
      announce: (size) => this.emit("queue", size),
    });
    this.queueSize = this.#queue.size;
    const stopChecking = addWriteCheck(config.store, (entity) => this.#queue.checkWrite(entity));
    const stopListening = this.#store.onChange((change) => this.#queue.storeChanged(change));
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
    if (this.#destroyed) {
      throw new KalphiteUsageError(
        "connect() was called after destroy(): create a new NetworkSyncEngine to sync again.",
      );
    }
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
   * Disconnects and detaches from the store for good: later writes are not synced, and a later
   * `connect()` rejects with a `KalphiteUsageError`.
   *
   * @example await engine.destroy();
   */
  async destroy(): Promise<void> {
    this.#destroyed = true;
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
    this.#queue.sendChange(change);
  }

  /**
   * Forgets the refusals in `refused` (the user has seen them): `status` leaves `"refused"`.
   * @example engine.dismissRefused();
   */
  dismissRefused(): void {
    this.#refusals.dismiss();
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
    return this.#queue.count;
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

  /** The limits this client checks writes against: the server's last announced, or the defaults. */
  getLimits(): ServerLimits {
    return this.#replica.limits;
  }

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
    const refuseTooLarge = this.#refusals.closed(code);
    this.#catchUp.reset(true);
    this.#sender.reset();
    refuseTooLarge();
  }

  #fetch(payload: FetchRequest): void {
    this.#send({
      type: "fetch",
      payload,
      timestamp: this.#clock.now(),
      userId: this.#config.userId,
      messageId: this.#createId(),
    });
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
        this.#catchUp.reset(false);
        if (message.payload.limits) this.#replica.learnLimits(message.payload.limits);
        this.#catchUp.apply(message.payload);
        this.#socket.welcomed();
        // A new connection has a fresh budget on the server; the pace learned stays.
        this.#pacer.fresh(this.#clock.now());
        this.#sender.sendAll();
        for (const waiter of this.#waiters.splice(0)) waiter.resolve();
        this.emit("synced", message.payload.head);
        break;
      case "catch-up":
        this.#catchUp.apply(message.payload);
        break;
      case "change":
        this.#catchUp.receive(entryFromChange(message));
        break;
      case "ack":
      case "conflict": {
        const { ackedId, entry } = message.payload;
        if (!this.#acked.has(ackedId)) {
          this.#acked.add(ackedId);
          if (this.#acked.size > 10_000) this.#acked.clear();
          this.emit("ack", ackedId, entry.seq);
        }
        if (entry.seq > this.#replica.cursor) this.#catchUp.receive(entry);
        // Applied already (a snapshot covered it), or answered with another entry (the change
        // was compacted away, superseded by its entity's latest entry): the change is done.
        if (entry.seq <= this.#replica.cursor || entry.messageId !== ackedId)
          this.#refusals.settled(ackedId);
        break;
      }
      case "heartbeat":
        this.#catchUp.heartbeat(message.payload.head);
        break;
      case "error":
        this.#refusals.serverError(message.payload);
        break;
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
    this.#queue.loaded();
  }

  /** After any change to the outbox or the cursor. */
  #outboxChanged(): void {
    this.#queue.changed();
  }

  // #endregion
}
