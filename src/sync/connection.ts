// The socket of a NetworkSyncEngine: opening it, reading its frames in batches, the heartbeat
// that finds a dead connection, and reconnecting with backoff until told to stop.
import { KalphiteSyncError } from "../core/index.js";
import { parseServerMessage, type ServerMessage } from "../protocol/messages.js";
import type { SyncClock, WebSocketConstructor, WebSocketLike } from "./options.js";

/** The connection states `getConnectionStatus()` reports and the `status` event announces. */
export type ConnectionStatus = "connected" | "connecting" | "disconnected";

/** What the connection tells its engine. */
export interface ConnectionHandlers {
  /** The socket opened: send the hello. */
  opened(): void;
  /** The frames read in one task, handled together (one store batch). */
  received(messages: ServerMessage[]): void;
  /** A frame that is not a server message. */
  malformed(error: KalphiteSyncError): void;
  /** A heartbeat on a live connection. */
  heartbeat(now: number): void;
  /** The socket is gone (closed by either side, `code` when the other side closed it). */
  closed(code: number | undefined): void;
  status(status: ConnectionStatus, previous: ConnectionStatus): void;
  /** Reconnecting stopped for good (every attempt failed, or a fatal error). */
  gaveUp(error: KalphiteSyncError, emit: boolean): void;
}

export interface ConnectionOptions {
  wsUrl: string;
  WebSocket: WebSocketConstructor | undefined;
  clock: SyncClock;
  random: () => number;
  heartbeatInterval: number;
  reconnectAttempts: number;
  reconnectDelay: number;
  maxReconnectDelay: number;
}

export class Connection {
  readonly #options: ConnectionOptions;
  readonly #on: ConnectionHandlers;
  #status: ConnectionStatus = "disconnected";
  #ws: WebSocketLike | undefined;
  /** The server welcomed this connection (set by the engine). */
  joined = false;
  #wantConnected = false;
  #failures = 0;
  /** A fatal error the server sent: no reconnect after the close that follows. */
  fatal: KalphiteSyncError | undefined;
  #heartbeatTimer: unknown;
  #reconnectTimer: unknown;
  #lastHeard = 0;
  /** The heartbeat found the deadline passed and looks once more before closing. */
  #lateCheck = false;
  #openedAt = 0;
  /** Server messages read and not yet handed over (see `#readInbox`). */
  #inbox: ServerMessage[] = [];
  #inboxTimer: unknown;

  constructor(options: ConnectionOptions, handlers: ConnectionHandlers) {
    this.#options = options;
    this.#on = handlers;
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  get wantConnected(): boolean {
    return this.#wantConnected;
  }

  /** Starts connecting (and reconnecting) unless a socket or a reconnect is already on its way. */
  start(): void {
    this.#wantConnected = true;
    this.fatal = undefined;
    if (this.#ws === undefined && this.#reconnectTimer === undefined) {
      this.#failures = 0;
      this.#open();
    }
  }

  /** Closes the socket and stops reconnecting. */
  stop(code: number, reason: string): void {
    this.#wantConnected = false;
    this.#close(code, reason);
  }

  /** The server welcomed the connection: reconnect attempts start from scratch again. */
  welcomed(): void {
    this.joined = true;
    this.#failures = 0;
    this.#setStatus("connected");
  }

  /** Sends a text if the socket is open. */
  send(text: string): boolean {
    const ws = this.#ws;
    if (ws?.readyState !== 1) return false;
    try {
      ws.send(text);
    } catch {
      // The close event will follow.
    }
    return true;
  }

  /** Gives up: closes, stops reconnecting, reports `error` (announced unless `emit` is false). */
  giveUp(error: KalphiteSyncError, emit = true): void {
    this.#wantConnected = false;
    this.#close(1000, "");
    this.#setStatus("disconnected");
    this.#on.gaveUp(error, emit);
  }

  #setStatus(status: ConnectionStatus): void {
    if (status === this.#status) return;
    const previous = this.#status;
    this.#status = status;
    this.#on.status(status, previous);
  }

  #open(): void {
    this.#reconnectTimer = undefined;
    if (!this.#wantConnected) return;
    const { WebSocket: WS, wsUrl, clock } = this.#options;
    if (!WS) {
      this.giveUp(
        new KalphiteSyncError(
          'No WebSocket implementation: pass `WebSocket` in the config (on Node 20: `import { WebSocket } from "ws"`).',
          { code: "no-websocket" },
        ),
      );
      return;
    }
    this.#setStatus("connecting");
    let ws: WebSocketLike;
    try {
      ws = new WS(wsUrl);
    } catch (cause) {
      this.giveUp(
        new KalphiteSyncError(`Cannot open ${wsUrl}: ${(cause as Error).message}. Check wsUrl.`, {
          code: "bad-url",
          cause,
        }),
      );
      return;
    }
    this.#ws = ws;
    this.#lastHeard = this.#openedAt = clock.now();
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      this.#lastHeard = clock.now();
      this.#on.opened();
    };
    ws.onmessage = (event: { data: unknown }) => {
      if (this.#ws !== ws) return;
      this.#lastHeard = clock.now();
      const text = typeof event.data === "string" ? event.data : String(event.data);
      const parsed = parseServerMessage(text);
      if (!parsed.ok) {
        this.#on.malformed(new KalphiteSyncError(parsed.error, { code: parsed.code }));
        return;
      }
      // The frames read in one task are handled together, on a 0 ms timer: one store batch,
      // so one notification, one render and one flush for all the changes they carry.
      this.#inbox.push(parsed.message);
      if (this.#inboxTimer === undefined)
        this.#inboxTimer = clock.setTimeout(() => this.#readInbox(ws), 0);
    };
    ws.onclose = (event: { code?: number; reason?: string }) => {
      // What the server said before closing (a fatal error, say) is handled first.
      if (this.#ws === ws && this.#inbox.length > 0) {
        clock.clearTimeout(this.#inboxTimer);
        this.#readInbox(ws);
      }
      if (this.#ws === ws) this.#gone(event?.code, event?.reason);
    };
    ws.onerror = () => {
      // A close event follows; reconnecting happens there.
    };
    this.#scheduleHeartbeat();
  }

  #readInbox(ws: WebSocketLike): void {
    this.#inboxTimer = undefined;
    const messages = this.#inbox;
    this.#inbox = [];
    if (this.#ws === ws && messages.length > 0) this.#on.received(messages);
  }

  /** Whether a socket is open or opening. */
  get open(): boolean {
    return this.#ws !== undefined;
  }

  #scheduleHeartbeat(): void {
    const { clock, heartbeatInterval } = this.#options;
    clock.clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = clock.setTimeout(() => this.#heartbeat(), heartbeatInterval);
  }

  #heartbeat(): void {
    this.#heartbeatTimer = undefined;
    if (this.#ws === undefined) return;
    const now = this.#options.clock.now();
    const deadline = 2 * this.#options.heartbeatInterval;
    if (now - this.#lastHeard > deadline || (!this.joined && now - this.#openedAt > deadline)) {
      // A timer that fires late (a busy or suspended event loop) runs before the socket's
      // waiting messages are read: look once more after them before calling the connection dead.
      if (!this.#lateCheck) {
        this.#lateCheck = true;
        this.#heartbeatTimer = this.#options.clock.setTimeout(() => this.#heartbeat(), 0);
        return;
      }
      this.#lateCheck = false;
      // Nothing heard for two intervals, or no welcome: the connection (or the handshake) is dead.
      this.#close(4000, "heartbeat timeout");
      this.#gone(4000, "heartbeat timeout");
      return;
    }
    this.#lateCheck = false;
    this.#on.heartbeat(now);
    this.#scheduleHeartbeat();
  }

  /** Tears the socket down (no reconnect decided here). */
  #close(code: number, reason: string, remoteCode?: number): void {
    const ws = this.#ws;
    const { clock } = this.#options;
    this.#ws = undefined;
    this.#inbox = [];
    clock.clearTimeout(this.#inboxTimer);
    this.#inboxTimer = undefined;
    this.joined = false;
    this.#lateCheck = false;
    clock.clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    clock.clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      // Closing a socket that is still connecting makes `ws` emit an error: keep a listener.
      ws.onerror = () => {};
      try {
        ws.close(code, reason);
      } catch {
        // Already closed.
      }
    }
    this.#on.closed(remoteCode);
    if (!this.#wantConnected) this.#setStatus("disconnected");
  }

  /** The socket closed or died: reconnect with backoff, or give up. */
  #gone(code?: number, reason?: string): void {
    this.#close(1000, "", code);
    if (!this.#wantConnected) return;
    if (this.fatal) {
      // Already emitted when the server's error arrived: only settle connect() now.
      this.giveUp(this.fatal, false);
      return;
    }
    const { reconnectAttempts, wsUrl } = this.#options;
    this.#failures++;
    if (this.#failures > reconnectAttempts) {
      this.giveUp(
        new KalphiteSyncError(
          `Could not reach ${wsUrl} after ${reconnectAttempts} reconnect attempts (last close: ${code ?? "none"} ${reason ?? ""}). Changes stay queued; call connect() to try again.`,
          { code: "unreachable" },
        ),
      );
      return;
    }
    const { maxReconnectDelay, reconnectDelay, random, clock } = this.#options;
    const delay =
      Math.min(maxReconnectDelay, reconnectDelay * 2 ** (this.#failures - 1)) *
      (0.5 + random() * 0.5);
    this.#setStatus("connecting");
    this.#reconnectTimer = clock.setTimeout(() => this.#open(), delay);
  }
}
