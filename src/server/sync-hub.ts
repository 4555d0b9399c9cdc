// The transport-independent heart of the sync server: connections, rooms, the group commit and
// the fan-out. createSyncServer wires it to `ws`; the simulation test wires it to a fake network.
import type { Entity } from "../core/index.js";
import {
  type CatchUpMessage,
  changeFromEntry,
  type ErrorMessage,
  type HelloMessage,
  type LogEntry,
  newMessageId,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ServerMessage,
  type SyncErrorCode,
} from "../protocol/messages.js";
import type { ChangeMessage } from "../protocol/types.js";
import type { Authenticator } from "./auth.js";
import { decideChange, type IncomingChange } from "./conflict.js";
import { type RateLimit, TokenBucket } from "./rate-limit.js";
import { CATCH_UP_LIMIT, type SyncStorage } from "./storage.js";

/** The two things the hub does with a socket. */
export interface HubSocket {
  send(text: string): void;
  close(code: number, reason: string): void;
}

/** Options of a SyncHub. */
export interface SyncHubOptions {
  storage: SyncStorage;
  authenticate: Authenticator;
  /** Validates an entity a client sends; throws to refuse it. */
  validate: (entity: unknown, entityType: string, entityId: string) => Entity;
  /** @default 1 MiB */
  maxMessageBytes?: number;
  /** @default { messagesPerSecond: 200, burst: 400, closeAfter: 100 } */
  rateLimit?: RateLimit;
  /** @default console.error */
  onError?: (error: unknown) => void;
  /** @default Date.now */
  now?: () => number;
  /** Changes committed in one storage transaction at most. @default 500 */
  maxBatch?: number;
}

interface Connection {
  socket: HubSocket;
  bucket: TokenBucket;
  refused: number;
  userId?: string;
  room?: Room;
  joining: boolean;
  closed: boolean;
}

interface Room {
  id: string;
  connections: Set<Connection>;
  queue: { change: IncomingChange; connection: Connection }[];
  committing: boolean;
  /** The last seq sent to this process's connections. */
  broadcastSeq: number;
  /** The highest head the storage announced (commits by any process sharing it). */
  heard: number;
  ready: Promise<void>;
  pumping: Promise<void>;
  /** Who sent each locally committed entry not yet broadcast: they get an ack instead. */
  origin: Map<string, Connection>;
}

/** A connection's handle: feed it what the socket receives; tell it when the socket closed. */
export interface HubConnection {
  receive(text: string): void;
  closed(): void;
}

/** Close codes the server uses. */
export const CloseCode = {
  policy: 1008,
  tooLarge: 1009,
  protocol: 4000,
  authFailed: 4001,
  forbidden: 4003,
  serverClosing: 1001,
} as const;

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
  readonly #unsubscribe: () => void;
  #closing = false;

  constructor(options: SyncHubOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#unsubscribe = options.storage.onCommit((roomId, head) => {
      const room = this.#rooms.get(roomId);
      if (!room) return;
      room.heard = Math.max(room.heard, head);
      // While this process commits, the announcement is most likely its own commit, whose
      // entries it is about to broadcast without reading them: the commit loop pumps up to
      // `heard` after each batch, so reading the log here would only read them a second time.
      if (!room.committing) this.#pump(room, [], head);
    });
  }

  /** The number of open connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Adopts a new socket. */
  open(socket: HubSocket): HubConnection {
    const connection: Connection = {
      socket,
      bucket: new TokenBucket(this.#options.rateLimit ?? {}, this.#now),
      refused: 0,
      joining: false,
      closed: false,
    };
    this.#connections.add(connection);
    return {
      receive: (text) => this.#receive(connection, text),
      closed: () => this.#closed(connection),
    };
  }

  /** Closes every connection (1001) and stops listening to the storage; does not close the storage. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#unsubscribe();
    for (const connection of [...this.#connections])
      this.#close(connection, CloseCode.serverClosing, "server closing");
    await Promise.all([...this.#rooms.values()].map((room) => room.pumping));
  }

  // #region messages

  #receive(connection: Connection, text: string): void {
    if (connection.closed || this.#closing) return;
    const max = this.#options.maxMessageBytes ?? 1 << 20;
    if (text.length > max) {
      this.#error(
        connection,
        "message-too-large",
        `The message is ${text.length} bytes; the limit is ${max}. Split large changes.`,
      );
      this.#close(connection, CloseCode.tooLarge, "message too large");
      return;
    }
    if (!connection.bucket.take()) {
      connection.refused++;
      const closeAfter = this.#options.rateLimit?.closeAfter ?? 100;
      if (connection.refused > closeAfter) {
        this.#close(connection, CloseCode.policy, "rate limit exceeded");
        return;
      }
      this.#error(
        connection,
        "rate-limited",
        "Too many messages: this message was dropped. Slow down; unacknowledged changes are resent by the client.",
      );
      return;
    }
    const parsed = parseClientMessage(text);
    if (!parsed.ok) {
      this.#error(connection, parsed.code, parsed.error);
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case "hello":
        this.#hello(connection, message).catch((error) => this.#fail(connection, error));
        return;
      case "heartbeat":
        this.#send(connection, {
          type: "heartbeat",
          payload: connection.room ? { head: connection.room.broadcastSeq } : {},
          timestamp: this.#now(),
          userId: "",
          messageId: newMessageId(),
        });
        return;
      case "fetch": {
        const room = connection.room;
        if (!room) {
          this.#notJoined(connection);
          return;
        }
        this.#catchUp(room.id, message.payload.after)
          .then((payload) =>
            this.#send(connection, {
              type: "catch-up",
              payload,
              timestamp: this.#now(),
              userId: "",
              messageId: newMessageId(),
            }),
          )
          .catch((error) => this.#fail(connection, error));
        return;
      }
      case "change":
        this.#change(connection, message);
        return;
    }
  }

  async #hello(connection: Connection, message: HelloMessage): Promise<void> {
    if (connection.room || connection.joining) {
      this.#error(
        connection,
        "already-joined",
        "This connection already joined a room: open one connection per room.",
      );
      return;
    }
    const { protocol, roomId, token, cursor } = message.payload;
    if (protocol !== PROTOCOL_VERSION) {
      this.#error(
        connection,
        "unsupported-protocol",
        `This server speaks protocol ${PROTOCOL_VERSION}, the client ${protocol}: upgrade kalphite on both sides to the same version.`,
        { fatal: true },
      );
      this.#close(connection, CloseCode.protocol, "unsupported protocol");
      return;
    }
    connection.joining = true;
    let identity: Awaited<ReturnType<Authenticator>>;
    try {
      identity = await this.#options.authenticate({ token, userId: message.userId, roomId });
    } catch {
      identity = undefined;
    }
    if (connection.closed) return;
    if (!identity) {
      this.#error(
        connection,
        "auth-failed",
        "Authentication failed: the token is missing, forged or expired. Mint one with signToken() using the server's KALPHITE_SECRET.",
        { fatal: true },
      );
      this.#close(connection, CloseCode.authFailed, "authentication failed");
      return;
    }
    if (identity.userId !== message.userId) {
      this.#error(
        connection,
        "forbidden-user",
        `The token is for user "${identity.userId}" but the client says "${message.userId}": set userId to the token's user.`,
        { fatal: true },
      );
      this.#close(connection, CloseCode.forbidden, "user mismatch");
      return;
    }
    if (identity.rooms && !identity.rooms.includes(roomId) && !identity.rooms.includes("*")) {
      this.#error(
        connection,
        "forbidden-room",
        `User "${identity.userId}" may not join room "${roomId}": mint a token that lists it.`,
        { fatal: true },
      );
      this.#close(connection, CloseCode.forbidden, "room not allowed");
      return;
    }
    connection.userId = identity.userId;
    const room = this.#room(roomId);
    await room.ready;
    if (connection.closed) return;
    // Join before reading the catch-up, so nothing committed in between is missed (the client
    // ignores seqs it already has).
    room.connections.add(connection);
    connection.room = room;
    connection.joining = false;
    const payload = await this.#catchUp(roomId, cursor);
    this.#send(connection, {
      type: "welcome",
      payload: { roomId, userId: identity.userId, ...payload },
      timestamp: this.#now(),
      userId: "",
      messageId: newMessageId(),
    });
  }

  async #catchUp(roomId: string, after: number): Promise<CatchUpMessage["payload"]> {
    const storage = this.#options.storage;
    // A first join gets the latest versions, not the history: the snapshot reads the head itself.
    const head = after === 0 ? 0 : await storage.head(roomId);
    if (after === 0 || after > head) {
      // A first join (or a client ahead of a reset server) gets the latest versions, not the history.
      const snapshot = await storage.snapshot(roomId);
      return { head: snapshot.head, snapshot: snapshot.versions };
    }
    const entries = await storage.entriesAfter(roomId, after, CATCH_UP_LIMIT);
    return { head: Math.max(head, entries.at(-1)?.seq ?? 0), entries };
  }

  #change(connection: Connection, message: ChangeMessage): void {
    const room = connection.room;
    if (!room || !connection.userId) {
      this.#notJoined(connection);
      return;
    }
    const p = message.payload;
    const rejectedId = message.messageId;
    if (message.userId !== connection.userId) {
      this.#error(
        connection,
        "forbidden-user",
        `This connection is user "${connection.userId}"; it cannot send changes as "${message.userId}".`,
        { rejectedId },
      );
      return;
    }
    let entity: Entity | undefined;
    if (p.operation === "upsert") {
      try {
        entity = this.#options.validate(p.entity, p.entityType, p.entityId);
      } catch (error) {
        this.#error(
          connection,
          "invalid-entity",
          `Refused ${p.entityType} "${p.entityId}": ${(error as Error).message}`,
          { rejectedId },
        );
        return;
      }
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
    room.queue.push({ change, connection });
    void this.#commit(room);
  }

  // #endregion

  // #region rooms

  #room(roomId: string): Room {
    let room = this.#rooms.get(roomId);
    if (!room) {
      const created: Room = {
        id: roomId,
        connections: new Set(),
        queue: [],
        committing: false,
        broadcastSeq: 0,
        heard: 0,
        ready: Promise.resolve(),
        pumping: Promise.resolve(),
        origin: new Map(),
      };
      created.ready = this.#options.storage.head(roomId).then((head) => {
        created.broadcastSeq = Math.max(created.broadcastSeq, head);
      });
      // Broadcasts wait for the head: an announcement before it would otherwise read the room's
      // whole history for nobody (no connection joins before the head is known).
      created.pumping = created.ready.catch(() => {});
      this.#rooms.set(roomId, created);
      room = created;
    }
    return room;
  }

  /** Group commit: while one transaction runs, arriving changes queue for the next. */
  async #commit(room: Room): Promise<void> {
    if (room.committing) return;
    room.committing = true;
    try {
      await room.ready;
      while (room.queue.length > 0 && !this.#closing) {
        const batch = room.queue.splice(0, this.#options.maxBatch ?? 500);
        let outcomes: Awaited<ReturnType<SyncStorage["commit"]>>;
        const fresh: LogEntry[] = [];
        try {
          outcomes = await this.#options.storage.commit(
            room.id,
            batch.map((item) => item.change),
            (change, current) =>
              decideChange(current, change, (e) =>
                this.#options.validate(e, change.entityType, change.entityId),
              ),
          );
        } catch (error) {
          this.#report(error);
          // Not stored: the clients keep the changes in their outboxes and resend them.
          for (const { connection } of batch)
            this.#error(
              connection,
              "storage-failed",
              "The server could not store the change; it will be resent.",
            );
          outcomes = [];
        }
        outcomes.forEach((outcome, i) => {
          const connection = batch[i]?.connection;
          if (!connection) return;
          if (outcome.rejected) {
            this.#error(connection, outcome.rejected.code, outcome.rejected.message, {
              rejectedId: outcome.messageId,
            });
            return;
          }
          const entry = outcome.entry;
          if (!entry) return;
          this.#send(connection, {
            type: entry.conflict ? "conflict" : "ack",
            payload: { ackedId: outcome.messageId, entry },
            timestamp: this.#now(),
            userId: "",
            messageId: newMessageId(),
          });
          if (!outcome.duplicate) {
            room.origin.set(entry.messageId, connection);
            fresh.push(entry);
          }
        });
        // Up to this batch's last entry, and to whatever other processes committed meanwhile.
        await this.#pump(room, fresh, Math.max(room.heard, fresh.at(-1)?.seq ?? 0));
      }
    } finally {
      room.committing = false;
    }
    // An announcement heard during the last broadcast was not pumped by the loop.
    if (room.heard > room.broadcastSeq) void this.#pump(room, [], room.heard);
    if (room.queue.length > 0 && !this.#closing) void this.#commit(room);
  }

  /**
   * Broadcasts every entry up to `target` not yet broadcast, in order, once. Serialized per room.
   * `known` are entries this process just committed (consecutive seqs, in order): they are sent
   * as they are; the log is read only for entries this process has not seen (other processes'
   * commits), and not at all once `target` is reached.
   */
  #pump(room: Room, known: LogEntry[], target: number): Promise<void> {
    room.pumping = room.pumping.then(async () => {
      try {
        while (room.broadcastSeq < target) {
          let entries = known.filter((entry) => entry.seq > room.broadcastSeq);
          if (entries[0]?.seq !== room.broadcastSeq + 1)
            entries = await this.#options.storage.entriesAfter(
              room.id,
              room.broadcastSeq,
              CATCH_UP_LIMIT,
            );
          // Nothing readable after broadcastSeq (a storage that lost entries): stop, not spin.
          if (entries.length === 0) break;
          this.#broadcast(room, entries);
        }
      } catch (error) {
        this.#report(error);
      }
    });
    return room.pumping;
  }

  /** Sends entries (seq > broadcastSeq, consecutive) to the room and advances broadcastSeq. */
  #broadcast(room: Room, entries: LogEntry[]): void {
    const last = entries.at(-1);
    if (!last) return;
    if (entries.length === 1) {
      // One entry: a change to everyone but its writer, who got the ack.
      const origin = room.origin.get(last.messageId);
      const text = JSON.stringify(changeFromEntry(last));
      for (const connection of room.connections)
        if (connection !== origin) this.#sendText(connection, text);
    } else {
      // Several (a group commit under load): one frame for all, serialized once. Writers also
      // get their own entries back; they ignore seqs they already applied.
      const text = JSON.stringify({
        type: "catch-up",
        payload: { head: last.seq, entries },
        timestamp: this.#now(),
        userId: "",
        messageId: newMessageId(),
      } satisfies CatchUpMessage);
      for (const connection of room.connections) this.#sendText(connection, text);
    }
    for (const entry of entries) room.origin.delete(entry.messageId);
    room.broadcastSeq = last.seq;
  }

  // #endregion

  // #region plumbing

  #send(connection: Connection, message: ServerMessage): void {
    this.#sendText(connection, JSON.stringify(message));
  }

  #sendText(connection: Connection, text: string): void {
    if (connection.closed) return;
    try {
      connection.socket.send(text);
    } catch (error) {
      this.#report(error);
    }
  }

  #error(
    connection: Connection,
    code: SyncErrorCode,
    message: string,
    extra: { rejectedId?: string; fatal?: boolean } = {},
  ): void {
    const error: ErrorMessage = {
      type: "error",
      payload: { code, message, ...extra },
      timestamp: this.#now(),
      userId: "",
      messageId: newMessageId(),
    };
    this.#send(connection, error);
  }

  #report(error: unknown): void {
    if (this.#options.onError) this.#options.onError(error);
    else console.error(error);
  }

  #notJoined(connection: Connection): void {
    this.#error(
      connection,
      "not-joined",
      "Send a hello (and wait for the welcome) before other messages.",
    );
  }

  #fail(connection: Connection, error: unknown): void {
    this.#report(error);
    this.#error(connection, "storage-failed", "The server failed to answer; try again.");
  }

  #close(connection: Connection, code: number, reason: string): void {
    if (connection.closed) return;
    try {
      connection.socket.close(code, reason);
    } catch {
      // Already closing.
    }
    this.#closed(connection);
  }

  #closed(connection: Connection): void {
    connection.closed = true;
    this.#connections.delete(connection);
    connection.room?.connections.delete(connection);
  }

  // #endregion
}
