// A load process for the sync benchmark: many lightweight raw-protocol clients (no store, no
// database), each joining the room, writing its own entities at a steady pace and timing
// (a) the ack of each write and (b) every other client's writes reaching it. Driven over IPC
// by bench/sync.bench.ts; one process per group of clients, apart from the servers it loads.
import { performance } from "node:perf_hooks";
import { WebSocket } from "ws";
import { joinRaw, type RawMessage, writeRaw } from "../../test/support/raw-client.js";
import { histogram, record } from "./histogram.js";

/** What the benchmark asks a load process to do. */
export interface RunCommand {
  cmd: "run";
  urls: string[];
  room: string;
  userIds: string[];
  secret: string;
  /** Changes per second from this whole process. */
  rate: number;
  seconds: number;
  /** Writes the whole room will make (all processes): each connection should see them all. */
  expectedWrites: number;
}

/** What it reports. */
export interface RunResult {
  type: "result";
  sent: number;
  acked: number;
  delivery: number[];
  ack: number[];
  /** Per connection: distinct seqs seen (its own included). */
  seen: number[];
  errors: Record<string, number>;
  closes: Record<string, number>;
}

const ENTITIES_PER_CLIENT = 50;

/**
 * The clients of one process receive the same broadcast frames: each frame is parsed once for
 * all of them (the clients only read it), so the load process measures the server, not its own
 * JSON parsing. Receipt times are taken before parsing.
 */
const parsedFrames = new Map<string, RawMessage>();
function parseShared(text: string): RawMessage {
  let message = parsedFrames.get(text);
  if (!message) {
    message = JSON.parse(text) as RawMessage;
    parsedFrames.set(text, message);
    if (parsedFrames.size > 4_096) parsedFrames.delete(parsedFrames.keys().next().value as string);
  }
  return message;
}
const now = () => performance.timeOrigin + performance.now();

interface Client {
  userId: string;
  socket: WebSocket;
  seen: Set<number>;
  /** Sent and not acknowledged: message id → send time. */
  pending: Map<string, number>;
  /** The vector of each own entity as last acknowledged (so writes are not concurrent). */
  vectors: Map<string, Record<string, number>>;
  next: number;
}

async function joinClient(
  url: string,
  room: string,
  userId: string,
  secret: string,
  result: RunResult,
): Promise<Client> {
  const client: Client = {
    userId,
    socket: undefined as unknown as WebSocket,
    seen: new Set(),
    pending: new Map(),
    vectors: new Map(),
    next: 0,
  };
  const acked = (
    messageId: string,
    entityId: string,
    vector: Record<string, number>,
    at: number,
  ) => {
    const sentAt = client.pending.get(messageId);
    if (sentAt === undefined) return;
    client.pending.delete(messageId);
    client.vectors.set(entityId, vector);
    result.acked++;
    record(result.ack, at - sentAt);
  };
  const entry = (
    e: {
      seq: number;
      messageId: string;
      userId: string;
      entityId: string;
      vector: Record<string, number>;
      entity?: { data?: { sentAt?: number } };
    },
    at: number,
  ) => {
    if (client.seen.has(e.seq)) return;
    client.seen.add(e.seq);
    if (e.userId === userId) {
      acked(e.messageId, e.entityId, e.vector, at);
      return;
    }
    const sentAt = e.entity?.data?.sentAt;
    if (typeof sentAt === "number") record(result.delivery, at - sentAt);
  };
  client.socket = await joinRaw({
    url,
    room,
    userId,
    secret,
    parse: parseShared,
    onClose: (code) => {
      result.closes[code] = (result.closes[code] ?? 0) + 1;
    },
    onMessage(message, { at }) {
      const p = message.payload;
      switch (message.type) {
        case "welcome":
          for (const e of p.entries ?? []) client.seen.add(e.seq);
          break;
        case "change":
          entry({ ...p, messageId: message.messageId, userId: message.userId }, at);
          break;
        case "catch-up":
          for (const e of p.entries ?? []) entry(e, at);
          break;
        case "ack":
        case "conflict":
          client.seen.add(p.entry.seq);
          acked(p.ackedId, p.entry.entityId, p.entry.vector, at);
          break;
        case "error":
          result.errors[p.code] = (result.errors[p.code] ?? 0) + 1;
          break;
      }
    },
  });
  return client;
}

function write(client: Client, result: RunResult): void {
  const n = client.next++;
  const entityId = `${client.userId}-${n % ENTITIES_PER_CLIENT}`;
  const messageId = `${client.userId}-${n}`;
  const sentAt = now();
  client.pending.set(messageId, sentAt);
  result.sent++;
  writeRaw(client.socket, {
    userId: client.userId,
    messageId,
    entityId,
    data: { body: `line ${n} of a review comment`, lineNumber: n, status: "open", sentAt },
    vector: client.vectors.get(entityId) ?? {},
  });
}

async function run(command: RunCommand): Promise<RunResult> {
  const result: RunResult = {
    type: "result",
    sent: 0,
    acked: 0,
    delivery: histogram(),
    ack: histogram(),
    seen: [],
    errors: {},
    closes: {},
  };
  const clients = await Promise.all(
    command.userIds.map((userId, i) =>
      joinClient(
        command.urls[i % command.urls.length] as string,
        command.room,
        userId,
        command.secret,
        result,
      ),
    ),
  );
  // Every client of every process joins before anyone writes: then each should see every write.
  const startAt = await new Promise<number>((resolve) => {
    const onGo = (message: { cmd: string; startAt: number }) => {
      if (message.cmd !== "go") return;
      process.off("message", onGo);
      resolve(message.startAt);
    };
    process.on("message", onGo);
    process.send?.({ type: "ready" });
  });
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
  // A steady pace: every 5 ms, the writes due by now, round-robin over the clients.
  const started = now();
  let due = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = (now() - started) / 1000;
      const target = Math.floor(Math.min(elapsed, command.seconds) * command.rate);
      while (due < target) {
        const client = clients[due % clients.length] as Client;
        if (client.socket.readyState === WebSocket.OPEN) write(client, result);
        due++;
      }
      if (elapsed >= command.seconds) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  // Drain: until every write is acknowledged and every connection saw the room's writes, at
  // most 20 s.
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (clients.every((c) => c.pending.size === 0 && c.seen.size >= command.expectedWrites)) break;
  }
  result.seen = clients.map((c) => c.seen.size);
  if (process.env.SYNC_BENCH_DEBUG) {
    const short = clients.find((c) => c.seen.size < command.expectedWrites);
    if (short) {
      const missing: number[] = [];
      for (let seq = 1; seq <= command.expectedWrites && missing.length < 20; seq++)
        if (!short.seen.has(seq)) missing.push(seq);
      console.error(
        `${short.userId}: saw ${short.seen.size} of ${command.expectedWrites}; pending ${short.pending.size}; missing ${missing.join(",")}`,
      );
    }
  }
  // Closes until now were the server's doing; the ones below are ours.
  const closes = { ...result.closes };
  for (const client of clients) client.socket.close();
  return { ...result, closes };
}

process.on("message", (command: RunCommand) => {
  if (command.cmd !== "run") return;
  run(command).then(
    (result) => process.send?.(result),
    (error: Error) => process.send?.({ type: "failed", message: error.message }),
  );
});
