// One client connection as the hub sees it: its socket, its message budget and its backlog.
import { Buffer } from "node:buffer";
import {
  type ErrorMessage,
  newMessageId,
  type ServerMessage,
  type SyncErrorCode,
} from "../../protocol/messages.js";
import type { RateLimit } from "./rate-limit.js";
import { TokenBucket } from "./rate-limit.js";
import type { Room } from "./room.js";
import { serverError } from "./server-error.js";

/** What the hub needs of a socket. */
export interface HubSocket {
  send(text: string): void;
  /**
   * Sends UTF-8 bytes as a text message. When given, a broadcast is encoded once for the
   * whole room instead of once per socket.
   */
  sendUtf8?(bytes: Uint8Array): void;
  close(code: number, reason: string): void;
  /**
   * Bytes queued on the socket and not yet sent (`ws`'s `bufferedAmount`). When given, a
   * connection whose backlog passes `maxBacklogBytes` is closed with 1013.
   */
  readonly bufferedAmount?: number;
}

/** A message sent to many connections: serialized once, encoded to UTF-8 at most once. */
export class SharedFrame {
  readonly text: string;
  #bytes: Uint8Array | undefined;
  constructor(text: string) {
    this.text = text;
  }
  get bytes(): Uint8Array {
    this.#bytes ??= Buffer.from(this.text);
    return this.#bytes;
  }
}

/** Close codes the server uses. */
export const CloseCode = {
  serverClosing: 1001,
  policy: 1008,
  tooLarge: 1009,
  /** The connection's unsent backlog passed `maxBacklogBytes`: reconnect and catch up. */
  tryAgainLater: 1013,
  protocol: 4000,
  authFailed: 4001,
  forbidden: 4003,
} as const;

/** What a connection needs from its hub. */
export interface ConnectionContext {
  now: () => number;
  maxBacklogBytes: number;
  report: (error: unknown) => void;
  /** Called once when the connection is closed, whoever closed it. */
  onClosed: (connection: Connection) => void;
}

/** One client connection. */
export class Connection {
  readonly bucket: TokenBucket;
  /** Messages refused by the rate limit since the last quiet spell (see the hub). */
  refused = 0;
  /** When the rate limit last refused a message of this connection. */
  refusedAt = 0;
  userId: string | undefined;
  room: Room | undefined;
  joining = false;
  closed = false;
  readonly #socket: HubSocket;
  readonly #context: ConnectionContext;

  constructor(socket: HubSocket, rateLimit: RateLimit, context: ConnectionContext) {
    this.#socket = socket;
    this.#context = context;
    this.bucket = new TokenBucket(rateLimit, context.now);
  }

  /** Sends a message (serialized here). */
  send(message: ServerMessage): void {
    this.sendText(JSON.stringify(message));
  }

  /**
   * Sends a serialized message, unless the socket's backlog already passed the limit: then the
   * connection is closed with 1013 (its client reconnects and catches up from its cursor), so a
   * reader that does not read never makes the server hold more than the limit (plus one group
   * commit's frames, themselves bounded) for it. A reader that keeps up drains between commits.
   */
  sendText(text: string | SharedFrame): void {
    if (this.closed) return;
    if ((this.#socket.bufferedAmount ?? 0) > this.#context.maxBacklogBytes) {
      this.close(
        CloseCode.tryAgainLater,
        "backlog over limit: reconnect and catch up from your cursor",
      );
      return;
    }
    try {
      if (typeof text === "string") this.#socket.send(text);
      else if (this.#socket.sendUtf8) this.#socket.sendUtf8(text.bytes);
      else this.#socket.send(text.text);
    } catch (error) {
      this.#context.report(serverError(error, "socket", "Sending a message to a client"));
    }
  }

  /** Sends an error message. */
  error(
    code: SyncErrorCode,
    message: string,
    extra: { rejectedId?: string; permanent?: boolean; fatal?: boolean } = {},
  ): void {
    const error: ErrorMessage = {
      type: "error",
      payload: { code, message, ...extra },
      timestamp: this.#context.now(),
      userId: "",
      messageId: newMessageId(),
    };
    this.send(error);
  }

  /** Closes the socket with `code` and forgets the connection. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    try {
      this.#socket.close(code, reason);
    } catch {
      // Already closing.
    }
    this.closedBySocket();
  }

  /** The socket closed (or the hub closed it): leave the room, once. */
  closedBySocket(): void {
    if (this.closed) return;
    this.closed = true;
    this.#context.onClosed(this);
  }
}
