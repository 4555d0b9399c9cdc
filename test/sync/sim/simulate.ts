// A simulated run of clients, a server and a faulty network, driven by one seed.
import { deepStrictEqual, ok } from "node:assert/strict";
import { KalphiteStore } from "../../../src/core/index.js";
import { insecureDevAuthenticator } from "../../../src/server/auth.js";
import { decideChange } from "../../../src/server/conflict.js";
import { SyncHub } from "../../../src/server/hub/hub.js";
import { memoryStorage } from "../../../src/server/storage/memory.js";
import type { SyncStorage } from "../../../src/server/storage/storage.js";
import { entityValidator } from "../../../src/server/validate.js";
import {
  type ConflictStrategy,
  memoryPersistence,
  NetworkSyncEngine,
  type SyncPersistence,
} from "../../../src/sync/index.js";
import { comment, Entity, review } from "../../fixtures/schema.js";
import { ManualClock } from "../../support/manual-clock.js";
import { SimNetwork } from "./network.js";
import { pick, seededRandom } from "./random.js";

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const HEARTBEAT = 1_000;
/** Tombstones outlive the run: forgetting them is the client's snapshot handling, tested apart. */
const TOMBSTONE_TTL = Number(process.env.KALPHITE_SIM_TOMBSTONE_TTL ?? 1e15);

interface SimClient {
  userId: string;
  store: ReturnType<typeof KalphiteStore<typeof Entity>>;
  engine: NetworkSyncEngine;
  saved: ReturnType<typeof memoryPersistence>;
  acked: Set<string>;
  online: boolean;
}

/**
 * The incremental persistence the engine records into, whose recording stops when its engine
 * "crashes", like a killed process: what was recorded before stays, later deltas are lost.
 */
function crashablePersistence(
  saved: ReturnType<typeof memoryPersistence>,
): SyncPersistence & { crash(): void } {
  let alive = true;
  return {
    load: () => saved.load(),
    record(delta, entity) {
      if (alive) saved.record(delta, entity);
    },
    flush: () => saved.flush(),
    crash() {
      alive = false;
    },
  };
}

/** Runs one simulation; throws (with the seed) if a client ends up differing from the server. */
export async function simulate(
  seed: number,
  strategy: ConflictStrategy,
  clientCount: number,
  steps: number,
): Promise<void> {
  const random = seededRandom(seed);
  const clock = new ManualClock();
  const network = new SimNetwork();
  const storage: SyncStorage = memoryStorage();
  let ids = 0;
  const newHub = () =>
    new SyncHub({
      storage,
      authenticate: insecureDevAuthenticator,
      validate: entityValidator(Entity),
      now: clock.now,
      rateLimit: { messagesPerSecond: 1e9, burst: 1e9 },
      onError: (error) => {
        throw error;
      },
    });
  network.hub = newHub();

  const persistences = new Map<string, ReturnType<typeof crashablePersistence>>();
  const makeClient = (
    userId: string,
    saved: ReturnType<typeof memoryPersistence>,
    acked: Set<string>,
  ): SimClient => {
    const store = KalphiteStore(Entity, {
      onError: (error) => {
        throw error;
      },
    });
    const persistence = crashablePersistence(saved);
    persistences.set(userId, persistence);
    const engine = new NetworkSyncEngine({
      wsUrl: "ws://simulated.invalid",
      roomId: "room",
      userId,
      store,
      persistence,
      WebSocket: network.WebSocket,
      clock,
      random,
      heartbeatInterval: HEARTBEAT,
      reconnectDelay: 100,
      maxReconnectDelay: 2_000,
      reconnectAttempts: 1_000_000,
      createMessageId: () => `${userId}-${ids++}`,
      conflictResolution:
        strategy === "manual"
          ? {
              strategy,
              resolver: (local, remote) => ({
                ...local,
                updatedAt: Math.max(local.updatedAt, remote.updatedAt) + 1,
              }),
            }
          : { strategy },
    });
    engine.onListenerError = (error) => {
      throw error;
    };
    engine.on("ack", (messageId) => acked.add(messageId));
    engine.on("error", (error) => {
      if (process.env.SIM_DEBUG) console.log("error", userId, error.code, error.message);
      // Only the sim's own faults are expected; anything else is a bug.
      if (!["disconnected", "already-joined"].includes(error.code ?? "")) throw error;
    });
    return { userId, store, engine, saved, acked, online: true };
  };

  const clients: SimClient[] = [];
  for (let i = 0; i < clientCount; i++)
    clients.push(makeClient(`user${i}`, memoryPersistence(), new Set()));
  for (const client of clients) client.engine.connect().catch(() => {});
  await settle();

  const entityIds = ["a", "b", "c", "d"];
  const edit = (client: SimClient) => {
    const id = pick(random, entityIds);
    const roll = random();
    const updatedAt = clock.now() + Math.floor(random() * 3); // ties happen
    if (roll < 0.55) {
      const existing = client.store.comment.findById(id);
      const data =
        random() < 0.5
          ? { body: `b${Math.floor(random() * 100)}` }
          : { status: random() < 0.5 ? ("open" as const) : ("resolved" as const) };
      client.store.comment.upsert(id, {
        ...(existing ?? comment(id)),
        data: { ...(existing ?? comment(id)).data, ...data },
        updatedAt,
      });
    } else if (roll < 0.75) {
      client.store.review.upsert(id, review(id, `t${Math.floor(random() * 100)}`, updatedAt));
    } else if (roll < 0.9) {
      client.store.comment.delete(id);
    } else {
      client.store.review.delete(id);
    }
  };

  const faults = { loss: random() * 0.1, duplicate: random() * 0.1 };
  for (let step = 0; step < steps; step++) {
    const roll = random();
    const client = pick(random, clients);
    if (roll < 0.3) {
      edit(client);
    } else if (roll < 0.8) {
      if (network.inFlight.length > 0) {
        // Mostly in order, sometimes reordered.
        const index = random() < 0.7 ? 0 : Math.floor(random() * network.inFlight.length);
        const fault = random();
        if (fault < faults.loss) network.drop(index);
        else network.deliver(index, fault < faults.loss + faults.duplicate);
      }
    } else if (roll < 0.87) {
      clock.next();
    } else if (roll < 0.91) {
      // The network drops a connection.
      const connections = [...network.connections];
      if (connections.length > 0) network.closeConnection(pick(random, connections));
    } else if (roll < 0.94) {
      if (client.online) {
        client.online = false;
        void client.engine.disconnect();
      } else {
        client.online = true;
        client.engine.connect().catch(() => {});
      }
    } else if (roll < 0.97) {
      // The client process crashes and restarts from its persisted state.
      persistences.get(client.userId)?.crash();
      void client.engine.destroy();
      const index = clients.indexOf(client);
      const restarted = makeClient(client.userId, client.saved, client.acked);
      clients[index] = restarted;
      restarted.engine.connect().catch(() => {});
    } else if (roll < 0.985) {
      // The server restarts on its durable storage.
      await network.hub?.close();
      network.hub = newHub();
    } else {
      // The server compacts the log: clients behind the new horizon catch up by snapshot.
      await network.hub?.compact("room", {
        keepEntries: Math.floor(random() * 6),
        tombstoneTtl: TOMBSTONE_TTL,
      });
    }
    await settle();
  }

  // Heal: no more edits or faults; everyone online; deliver everything and let timers run.
  for (const client of clients) {
    if (!client.online || client.engine.getConnectionStatus() === "disconnected") {
      client.online = true;
      client.engine.connect().catch(() => {});
    }
  }
  await settle();
  const quiet = async () => {
    const head = await storage.head("room");
    return (
      network.inFlight.length === 0 &&
      clients.every(
        (c) =>
          c.engine.getConnectionStatus() === "connected" &&
          c.engine.getOfflineQueueSize() === 0 &&
          c.engine.getCursor() === head,
      )
    );
  };
  let rounds = 0;
  while (!(await quiet())) {
    if (++rounds > 5_000) {
      const head = await storage.head("room");
      if (process.env.SIM_DEBUG)
        console.log(
          "in flight",
          network.inFlight.map(
            (m) => `${m.connection.id} ${m.toServer} ${m.event} ${m.text?.slice(0, 80)}`,
          ),
          "timers",
          clock.pending,
          "open",
          [...network.connections].map((c) => c.id),
        );
      const states = clients.map(
        (c) =>
          `${c.userId}: ${c.engine.getConnectionStatus()} outbox=${c.engine.getOfflineQueueSize()} cursor=${c.engine.getCursor()}`,
      );
      if (process.env.SIM_DEBUG)
        for (const e of await storage.entriesAfter("room", head - 12, 100))
          console.log(
            e.seq,
            e.messageId,
            e.entityType,
            e.entityId,
            JSON.stringify(e.vector),
            e.conflict
              ? `conflict ${JSON.stringify(e.conflict.current)} vs ${JSON.stringify(e.conflict.attempted)}`
              : "",
            JSON.stringify(e.entity),
          );
      throw new Error(
        `seed ${seed}: did not quiesce (head ${head}; ${states.join("; ")}; in flight ${network.inFlight.length})`,
      );
    }
    if (network.inFlight.length > 0) network.deliver(0);
    else clock.next();
    await settle();
  }

  if (process.env.SIM_ROUNDS) console.log("rounds", rounds);
  const snapshot = await storage.snapshot("room");
  const expected = snapshot.versions
    .filter((v) => v.entity !== null)
    .map((v) => v.entity)
    .sort((a, b) => `${a?.type}/${a?.id}`.localeCompare(`${b?.type}/${b?.id}`));
  for (const client of clients) {
    const actual = client.store
      .entities()
      .sort((a, b) => `${a.type}/${a.id}`.localeCompare(`${b.type}/${b.id}`));
    deepStrictEqual(actual, expected, `seed ${seed}: ${client.userId} differs from the server`);
  }
  // Every acknowledged change is stored: resent now, each is a duplicate (compacted or not).
  const acked = [...new Set(clients.flatMap((c) => [...c.acked]))];
  const resent = await storage.commit(
    "room",
    acked.map((messageId) => ({
      messageId,
      userId: "check",
      timestamp: 0,
      operation: "delete" as const,
      entityType: "check",
      entityId: messageId,
      vector: {},
      strategy: "last-write-wins" as const,
    })),
    (change, current) => decideChange(current, change, (e) => e),
  );
  for (const [i, outcome] of resent.entries())
    ok(outcome.duplicate, `seed ${seed}: acked ${acked[i]} lost`);
  await network.hub?.close();
  for (const client of clients) void client.engine.destroy();
}
