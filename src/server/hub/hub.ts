// The transport-independent heart of the sync server: connections, their messages, and rooms.
// createSyncServer wires it to `ws`; the simulation test wires it to a fake network.
import { type Entity, KalphiteSyncError, KalphiteUsageError } from "../../core/index.js";
import { unstorablePath } from "../../core/schema.js";
import {
  type CatchUpMessage,
  DEFAULT_LIMITS,
  type FetchMessage,
  type HelloMessage,
  newMessageId,
  parseClientMessage,
  type ServerLimits,
} from "../../protocol/messages.js";
import type { ChangeMessage } from "../../protocol/types.js";
import type { Authenticator } from "../auth.js";
import type { IncomingChange } from "../conflict.js";
import type { SyncStorage } from "../storage/storage.js";
import { admit, storable } from "./admission.js";
import { readCatchUp } from "./catch-up.js";
import { CloseCode, Connection, type HubSocket } from "./connection.js";
import type { RateLimit } from "./rate-limit.js";
import { Room } from "./room.js";
import { serverError } from "./server-error.js";

/** A connection with no rate-limit refusal for this long starts counting them from zero. */
const REFUSALS_FORGOTTEN_AFTER_MS = 5_000;
/** Options of a SyncHub. */
export interface SyncHubOptions {
  storage: SyncStorage;
  authenticate: Authenticator;
  /** Validates an entity a client sends; throws to refuse it. */
  validate: (entity: unknown, entityType: string, entityId: string) => Entity;
  /**
   * The largest message read; announced to clients in `welcome`.
   * @default 1048576 (1 MiB)
   */
  maxMessageBytes?: number;
  /**
   * The deepest nesting of objects and arrays in an entity; deeper ones are refused for good
   * (`entity-too-deep`, `permanent: true`). Announced in `welcome`.
   * @default 64
   */
  maxDepth?: number;
  /**
   * The size a frame of several entries or snapshot versions is cut at (a join, a catch-up, a
   * group commit's broadcast arrive in pages of at most this). A single entry larger than it
   * travels alone.
   * @default 262144 (256 KiB)
   */
  maxFrameBytes?: number;
  /**
   * The most a connection may have queued and unsent; past it the connection is closed with
   * 1013 and its client catches up from its cursor when it reconnects.
   * @default 4194304 (4 MiB)
   */
  maxBacklogBytes?: number;
  /**
   * How far ahead of the server's clock a change's `updatedAt` may be ordered: a later one is
   * ordered at the server's clock plus this (its entity is stored as sent).
   * @default 0
   */
  maxClockSkew?: number;
  /** @default { messagesPerSecond: 200, burst: 400, closeAfter: 100 } */
  rateLimit?: RateLimit;
  /** @default console.error */
  onError?: (error: unknown) => void;
  /** @default Date.now */
  now?: () => number;
  /** Changes committed in one storage transaction at most. @default 500 */
  maxBatch?: number;
  /**
   * Bytes of changes (as received) committed in one transaction at most: bounds the burst one
   * commit broadcasts to each connection.
   * @default a quarter of maxBacklogBytes (1 MiB)
   */
  maxBatchBytes?: number;
  /**
   * Background compaction of each open room's log, every `interval` ms: entries superseded by a
   * later entry of their entity are dropped once `keepEntries` newer entries follow them (a
   * client further behind catches up by snapshot), and tombstones (and the ids of dropped
   * entries, so resends stay resends) are forgotten `tombstoneTtl` ms after the server stored
   * them, on its clock (`now`), whatever the writer's clock said. `false`: never (compact with
   * `hub.compact()`).
   * @default { interval: 60000, keepEntries: 10000, tombstoneTtl: 2592000000 (30 days) }
   */
  compaction?: false | CompactionOptions;
}

/** When and how far the hub compacts room logs. */
export interface CompactionOptions {
  /** @default 60000 */
  interval?: number;
  /** @default 10000 */
  keepEntries?: number;
  /** @default 2592000000 (30 days) */
  tombstoneTtl?: number;
}

/** A connection's handle: feed it what the socket receives; tell it when the socket closed. */
export interface HubConnection {
  receive(text: string): void;
  closed(): void;
}

/**
 * Runs rooms over any transport. Every change is stored before it is acknowledged or broadcast.
 *
 * @example const hub = new SyncHub({ storage, authenticate, validate }); const conn = hub.open(socket); conn.receive(text);
 */
export class SyncHub {
  readonly #options: SyncHubOptions;
  readonly #rooms = new Map<string, Room>();
  readonly #connections = new Set<Connection>();
  readonly #now: () => number;
  readonly #limits: ServerLimits;
  readonly #maxFrameBytes: number;
  readonly #unsubscribe: () => void;
  readonly #compaction: Required<CompactionOptions> | undefined;
  readonly #compactTimer: ReturnType<typeof setInterval> | undefined;
  #closing = false;

  constructor(options: SyncHubOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#limits = {
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_LIMITS.maxMessageBytes,
      maxDepth: options.maxDepth ?? DEFAULT_LIMITS.maxDepth,
    };
    this.#maxFrameBytes = options.maxFrameBytes ?? 256 * 1024;
    const backlog = options.maxBacklogBytes ?? 4 * 1024 * 1024;
    if (backlog < this.#maxFrameBytes)
      throw new KalphiteUsageError(
        `maxBacklogBytes (${backlog}) is smaller than maxFrameBytes (${this.#maxFrameBytes}): every connection would be closed at its first full page. Raise maxBacklogBytes or lower maxFrameBytes.`,
      );
    this.#unsubscribe = options.storage.onCommit((roomId, head, byThisProcess, entries) =>
      this.#rooms.get(roomId)?.heard(head, byThisProcess, entries),
    );
    if (options.compaction !== false) {
      this.#compaction = {
        interval: options.compaction?.interval ?? 60_000,
        keepEntries: options.compaction?.keepEntries ?? 10_000,
        tombstoneTtl: options.compaction?.tombstoneTtl ?? 30 * 24 * 3_600_000,
      };
      this.#compactTimer = setInterval(() => {
        for (const roomId of this.#rooms.keys())
          this.compact(roomId).catch((error) =>
            this.#report(serverError(error, "storage", `Compacting room "${roomId}"`)),
          );
      }, this.#compaction.interval);
      this.#compactTimer.unref?.();
    }
  }

  /**
   * Compacts one room's log now (see `compaction`); `keepEntries` and `tombstoneTtl` default to
   * the hub's. Resolves with the number of entries dropped.
   *
   * @example await hub.compact("room-1", { keepEntries: 0 });
   */
  async compact(
    roomId: string,
    options: { keepEntries?: number; tombstoneTtl?: number } = {},
  ): Promise<number> {
    const storage = this.#options.storage;
    const keep = options.keepEntries ?? this.#compaction?.keepEntries ?? 10_000;
    const ttl = options.tombstoneTtl ?? this.#compaction?.tombstoneTtl ?? 30 * 24 * 3_600_000;
    const head = await storage.head(roomId);
    if (head - keep <= 0) return 0;
    const { removed } = await storage.compact(roomId, {
      horizon: head - keep,
      tombstonesBefore: this.#now() - ttl,
    });
    return removed;
  }

  /** The number of open connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** The limits this hub announces in `welcome`. */
  get limits(): ServerLimits {
    return { ...this.#limits };
  }

  /** Adopts a new socket. */
  open(socket: HubSocket): HubConnection {
    const connection = new Connection(socket, this.#options.rateLimit ?? {}, {
      now: this.#now,
      maxBacklogBytes: this.#options.maxBacklogBytes ?? 4 * 1024 * 1024,
      report: (error) => this.#report(error),
      onClosed: (closed) => {
        this.#connections.delete(closed);
        closed.room?.connections.delete(closed);
      },
    });
    this.#connections.add(connection);
    return {
      receive: (text) => this.#receive(connection, text),
      closed: () => connection.closedBySocket(),
    };
  }

  /** Closes every connection (1001) and stops listening to the storage; does not close the storage. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#unsubscribe();
    if (this.#compactTimer) clearInterval(this.#compactTimer);
    for (const connection of [...this.#connections])
      connection.close(CloseCode.serverClosing, "server closing");
    await Promise.all([...this.#rooms.values()].map((room) => room.idle()));
  }

  // #region messages

  #receive(connection: Connection, text: string): void {
    if (connection.closed || this.#closing) return;
    const max = this.#limits.maxMessageBytes;
    if (text.length > max) {
      connection.error(
        "message-too-large",
        `The message is ${text.length} bytes; the limit is ${max}. Split large changes.`,
      );
      connection.close(CloseCode.tooLarge, "message too large");
      return;
    }
    const parsed = parseClientMessage(text);
    // Charged by the envelope's time when there is one (see TokenBucket).
    if (!connection.bucket.take(parsed.ok ? parsed.message.timestamp : undefined)) {
      // Refusals are forgotten after a quiet spell: a client that slowed down when told is not
      // closed for episodes long past, while a flood (refused without pause) still is.
      const now = this.#now();
      if (now - connection.refusedAt > REFUSALS_FORGOTTEN_AFTER_MS) connection.refused = 0;
      connection.refusedAt = now;
      connection.refused++;
      const closeAfter = this.#options.rateLimit?.closeAfter ?? 100;
      if (connection.refused > closeAfter) {
        connection.close(CloseCode.policy, "rate limit exceeded");
        return;
      }
      connection.error(
        "rate-limited",
        "Too many messages: this message was dropped. Slow down; unacknowledged changes are resent by the client.",
      );
      return;
    }
    if (!parsed.ok) {
      connection.error(parsed.code, parsed.error);
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case "hello":
        this.#hello(connection, message).catch((error) => this.#fail(connection, error));
        return;
      case "heartbeat":
        connection.send({
          type: "heartbeat",
          payload: connection.room ? { head: connection.room.broadcastSeq } : {},
          timestamp: this.#now(),
          userId: "",
          messageId: newMessageId(),
        });
        return;
      case "fetch":
        this.#fetch(connection, message).catch((error) => this.#fail(connection, error));
        return;
      case "change":
        this.#change(connection, message, text.length);
        return;
    }
  }

  async #hello(connection: Connection, message: HelloMessage): Promise<void> {
    if (connection.room || connection.joining) {
      connection.error(
        "already-joined",
        "This connection already joined a room: open one connection per room.",
      );
      return;
    }
    connection.joining = true;
    const admission = await admit(message, this.#options.authenticate);
    if (connection.closed) return;
    if ("refused" in admission) {
      const { code, message: text, close } = admission.refused;
      connection.error(code, text, { fatal: true });
      if (close) connection.close(close.code, close.reason);
      return;
    }
    const { roomId, cursor } = message.payload;
    connection.userId = admission.identity.userId;
    const room = this.#room(roomId);
    await room.ready;
    if (connection.closed) return;
    // Join before reading the catch-up, so nothing committed in between is missed (the client
    // ignores seqs it already has).
    room.connections.add(connection);
    connection.room = room;
    connection.joining = false;
    const payload = await this.#catchUp(roomId, { after: cursor }, true);
    connection.send({
      type: "welcome",
      payload: { roomId, userId: admission.identity.userId, limits: this.limits, ...payload },
      timestamp: this.#now(),
      userId: "",
      messageId: newMessageId(),
    });
  }

  async #fetch(connection: Connection, message: FetchMessage): Promise<void> {
    const room = connection.room;
    if (!room) {
      this.#notJoined(connection);
      return;
    }
    const payload = await this.#catchUp(room.id, message.payload);
    connection.send({
      type: "catch-up",
      payload,
      timestamp: this.#now(),
      userId: "",
      messageId: newMessageId(),
    });
  }

  #catchUp(
    roomId: string,
    from: FetchMessage["payload"],
    joining = false,
  ): Promise<CatchUpMessage["payload"]> {
    return readCatchUp(this.#options.storage, roomId, from, this.#maxFrameBytes, joining);
  }

  #change(connection: Connection, message: ChangeMessage, bytes: number): void {
    const room = connection.room;
    if (!room || !connection.userId) {
      this.#notJoined(connection);
      return;
    }
    const p = message.payload;
    const rejectedId = message.messageId;
    if (message.userId !== connection.userId) {
      connection.error(
        "forbidden-user",
        `This connection is user "${connection.userId}"; it cannot send changes as "${message.userId}".`,
        { rejectedId, permanent: true },
      );
      return;
    }
    // Ids and entities are stored as jsonb, which cannot hold U+0000 or a lone surrogate: such a
    // change would fail its whole batch as storage-failed, and be resent forever.
    const unstorable = (path: string | undefined) => {
      if (path === undefined) return false;
      connection.error(
        "invalid-entity",
        `Refused ${p.entityType} "${p.entityId}": ${path} is a string PostgreSQL cannot store (U+0000, or a lone UTF-16 surrogate).`,
        { rejectedId, permanent: true },
      );
      return true;
    };
    const ids = { messageId: rejectedId, entityType: p.entityType, entityId: p.entityId };
    if (unstorable(unstorablePath(ids, "change"))) return;
    let entity: Entity | undefined;
    if (p.operation === "upsert") {
      try {
        entity = this.#options.validate(p.entity, p.entityType, p.entityId);
      } catch (error) {
        connection.error(
          "invalid-entity",
          `Refused ${p.entityType} "${p.entityId}": ${(error as Error).message}`,
          { rejectedId, permanent: true },
        );
        return;
      }
      const refused = storable(entity, {
        maxDepth: this.#limits.maxDepth,
        maxEntityBytes: this.#limits.maxMessageBytes,
      });
      if (refused) {
        connection.error(refused.code, refused.message, { rejectedId, permanent: true });
        return;
      }
      // Walked only once its depth is known to be within the limit.
      if (unstorable(unstorablePath(entity, "change.entity"))) return;
    }
    const change: IncomingChange = {
      messageId: message.messageId,
      userId: connection.userId,
      timestamp: message.timestamp,
      operation: p.operation,
      entityType: p.entityType,
      entityId: p.entityId,
      vector: p.vector,
      strategy: p.strategy ?? "last-write-wins",
    };
    if (entity) change.entity = entity;
    if (p.changedFields) change.changedFields = p.changedFields;
    room.enqueue(change, connection, bytes);
  }

  // #endregion

  // #region rooms

  #room(roomId: string): Room {
    let room = this.#rooms.get(roomId);
    if (!room) {
      const skew = this.#options.maxClockSkew ?? 0;
      room = new Room(roomId, {
        storage: this.#options.storage,
        validate: this.#options.validate,
        now: this.#now,
        maxBatch: this.#options.maxBatch ?? 500,
        maxBatchBytes:
          this.#options.maxBatchBytes ?? (this.#options.maxBacklogBytes ?? 4 * 1024 * 1024) / 4,
        maxFrameBytes: this.#maxFrameBytes,
        latestTime: () => this.#now() + skew,
        closing: () => this.#closing,
        report: (error) => this.#report(error),
      });
      this.#rooms.set(roomId, room);
    }
    return room;
  }

  // #endregion

  // #region plumbing

  #report(error: unknown): void {
    if (this.#options.onError) this.#options.onError(error);
    else console.error(error);
  }

  #notJoined(connection: Connection): void {
    connection.error(
      "not-joined",
      "Send a hello (and wait for the welcome) before other messages.",
    );
  }

  #fail(connection: Connection, error: unknown): void {
    // A request the client got wrong (an unknown snapshot cursor) is its error, not the server's.
    if (error instanceof KalphiteSyncError && error.code === "invalid-message") {
      connection.error("invalid-message", error.message);
      return;
    }
    this.#report(serverError(error, "storage", "Answering a join or fetch"));
    connection.error("storage-failed", "The server failed to answer; try again.");
  }

  // #endregion
}
