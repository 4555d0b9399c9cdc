// The floor of the sync benchmark: a plain `ws` broadcast server with no storage, no checks and
// no conflict handling, that orders the changes it reads and sends them to the whole room in one
// frame per event-loop turn. Whatever the real server costs above this is its own.
import { WebSocket, WebSocketServer } from "ws";

const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
const room = new Set<WebSocket>();
let head = 0;
let pending: unknown[] = [];
let scheduled = false;

const flush = () => {
  scheduled = false;
  const entries = pending;
  pending = [];
  const text = JSON.stringify({
    type: "catch-up",
    payload: { head, entries },
    timestamp: Date.now(),
    userId: "",
    messageId: `floor-${head}`,
  });
  for (const socket of room) if (socket.readyState === WebSocket.OPEN) socket.send(text);
};

wss.on("connection", (socket) => {
  socket.on("message", (data) => {
    const message = JSON.parse(data.toString());
    if (message.type === "hello") {
      room.add(socket);
      socket.send(
        JSON.stringify({
          type: "welcome",
          payload: { roomId: message.payload.roomId, userId: message.userId, head },
          timestamp: Date.now(),
          userId: "",
          messageId: `welcome-${head}`,
        }),
      );
    } else if (message.type === "change") {
      const p = message.payload;
      pending.push({
        seq: ++head,
        messageId: message.messageId,
        userId: message.userId,
        timestamp: message.timestamp,
        operation: p.operation,
        entityType: p.entityType,
        entityId: p.entityId,
        entity: p.entity,
        vector: { ...p.vector, [message.userId]: (p.vector[message.userId] ?? 0) + 1 },
      });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    }
  });
  socket.on("close", () => room.delete(socket));
  socket.on("error", () => {});
});
wss.on("listening", () => {
  const address = wss.address() as { port: number };
  console.log(`floor listening on ws://127.0.0.1:${address.port}`);
});
