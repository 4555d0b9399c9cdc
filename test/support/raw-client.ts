// A raw-protocol client: a plain `ws` socket that joins a room with a signed token and writes
// changes, with no store or engine, as load generators and server tests need (the benchmark's
// load processes, the backpressure and stall tests).
import { performance } from "node:perf_hooks";
import { WebSocket } from "ws";
import { signToken } from "../../src/server/auth.js";

/** A server message as a raw client reads it (loosely typed: the tests check the fields). */
export type RawMessage = { type: string; payload: any; messageId?: string; userId?: string };

/** How a raw client joins and what it is told of each message. */
export interface RawJoinOptions {
  url: string;
  room: string;
  userId: string;
  /** The server's token secret. */
  secret: string;
  /** Parses a message's text (default JSON.parse): load processes share one parse per frame. */
  parse?: (text: string) => RawMessage;
  /** Every message, the welcome included; `at` is when it arrived (before parsing), in ms since the epoch. */
  onMessage?: (message: RawMessage, received: { bytes: number; at: number }) => void;
  /** The socket closed (whoever closed it). */
  onClose?: (code: number) => void;
}

/**
 * Opens a socket, sends a hello with a token for `room` and resolves with the socket once the
 * welcome arrives; rejects if the socket closes before.
 *
 * @example const socket = await joinRaw({ url, room, userId: "u1", secret });
 */
export function joinRaw(options: RawJoinOptions): Promise<WebSocket> {
  const { url, room, userId, secret } = options;
  const parse = options.parse ?? ((text: string) => JSON.parse(text) as RawMessage);
  return new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.on("error", () => {});
    socket.on("open", () =>
      socket.send(
        JSON.stringify({
          type: "hello",
          payload: {
            protocol: 1,
            roomId: room,
            token: signToken({ userId, rooms: [room] }, secret),
            cursor: 0,
          },
          timestamp: Date.now(),
          userId,
          messageId: `${userId}-hello-${Math.random()}`,
        }),
      ),
    );
    socket.on("message", (data: Buffer) => {
      const at = performance.timeOrigin + performance.now();
      const message = parse(data.toString());
      options.onMessage?.(message, { bytes: data.length, at });
      if (message.type === "welcome") resolve(socket);
    });
    socket.on("close", (code) => {
      options.onClose?.(code);
      reject(new Error(`${userId}: closed ${code} before the welcome`));
    });
  });
}

/** One upsert of a comment, as a raw client sends it. */
export interface RawChange {
  userId: string;
  messageId: string;
  entityId: string;
  data: Record<string, unknown>;
  /** The vector of the version it edits. @default {} */
  vector?: Record<string, number>;
}

/**
 * Sends an upsert of comment `entityId` with `data`.
 *
 * @example writeRaw(socket, { userId: "u1", messageId: "u1-0", entityId: "c1", data: { body: "hi" } });
 */
export function writeRaw(socket: WebSocket, change: RawChange): void {
  const { userId, messageId, entityId } = change;
  socket.send(
    JSON.stringify({
      type: "change",
      payload: {
        operation: "upsert",
        entityType: "comment",
        entityId,
        entity: { id: entityId, type: "comment", updatedAt: Date.now(), data: change.data },
        vector: change.vector ?? {},
      },
      timestamp: Date.now(),
      userId,
      messageId,
    }),
  );
}

/** A raw client that counts what it sent and what came back (the tests' load clients). */
export interface CountingRawClient {
  socket: WebSocket;
  userId: string;
  /** Changes written so far. */
  sent: number;
  /** The round trip (ms) of each acknowledged change, by message id. */
  acks: Map<string, number>;
  /** The codes of the server's error messages (a refused write is never acknowledged). */
  errors: string[];
  /** Bytes of messages received. */
  bytes: number;
  /** The close code once the socket closed. */
  closeCode: number | undefined;
  closed: Promise<number>;
  /** Writes comment `<userId>-<n>` (a new one each time) with `data`. */
  write(data: Record<string, unknown>): void;
}

/**
 * Joins `room` as `userId` and counts sends, acks, errors and bytes.
 *
 * @example const client = await countingRawClient({ url, room, userId: "w1", secret }); client.write({ body: "x" });
 */
export async function countingRawClient(
  options: Omit<RawJoinOptions, "onMessage" | "onClose">,
): Promise<CountingRawClient> {
  const sentAt = new Map<string, number>();
  let onClose: (code: number) => void = () => {};
  const client: CountingRawClient = {
    socket: undefined as unknown as WebSocket,
    userId: options.userId,
    sent: 0,
    acks: new Map(),
    errors: [],
    bytes: 0,
    closeCode: undefined,
    closed: new Promise((resolve) => {
      onClose = resolve;
    }),
    write(data) {
      const messageId = `${client.userId}-${client.sent++}`;
      sentAt.set(messageId, performance.now());
      writeRaw(client.socket, { userId: client.userId, messageId, entityId: messageId, data });
    },
  };
  client.socket = await joinRaw({
    ...options,
    onClose(code) {
      client.closeCode = code;
      onClose(code);
    },
    onMessage(m, { bytes }) {
      client.bytes += bytes;
      if (m.type === "error") client.errors.push(m.payload.code);
      if (m.type === "ack" || m.type === "conflict") {
        const sent = sentAt.get(m.payload.ackedId);
        if (sent !== undefined) client.acks.set(m.payload.ackedId, performance.now() - sent);
      }
    },
  });
  return client;
}
