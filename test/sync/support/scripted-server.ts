// A peer that speaks the protocol from a script, on a real socket (ws on loopback port 0): for
// the client's side of what a server may send (limits in welcome, permanent refusals, paged
// snapshots, bursts of frames) independently of the server's own implementation.
import { type WebSocket, WebSocketServer } from "ws";

export interface ScriptedConnection {
  socket: WebSocket;
  /** Sends one server message. */
  send(type: string, payload: unknown): void;
}

export interface ScriptedServer {
  url: string;
  /** Every message clients sent, parsed, in order. */
  received: { type: string; payload: any; messageId: string }[];
  close(): Promise<void>;
}

/**
 * Starts a scripted server; `onMessage` answers each client message.
 * @example const server = await scriptedServer((message, conn) => { if (message.type === "hello") conn.send("welcome", {...}); });
 */
export async function scriptedServer(
  onMessage: (
    message: { type: string; payload: any; messageId: string },
    connection: ScriptedConnection,
  ) => void,
  options: { maxPayload?: number } = {},
): Promise<ScriptedServer> {
  // Over `maxPayload`, `ws` closes the connection with 1009, as a real server past its limit.
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", ...options });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const received: ScriptedServer["received"] = [];
  let n = 0;
  wss.on("connection", (socket) => {
    // A message over maxPayload errors the socket before `ws` closes it with 1009: expected here.
    socket.on("error", () => {});
    const connection: ScriptedConnection = {
      socket,
      send: (type, payload) =>
        socket.send(
          JSON.stringify({ type, payload, timestamp: 1, userId: "server", messageId: `s${n++}` }),
        ),
    };
    socket.on("message", (data) => {
      const message = JSON.parse(String(data));
      received.push(message);
      onMessage(message, connection);
    });
  });
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** The welcome a scripted server sends for a hello. */
export function welcome(
  message: { userId?: string; payload: { roomId: string } },
  extra: object = {},
) {
  return { roomId: message.payload.roomId, userId: "ann", head: 0, entries: [], ...extra };
}
