/**
 * Another client of the demo's room, in this Node process (not in the server's): a Kalphite
 * store and NetworkSyncEngine on `ws`, as a second user's app would be, to write many comments
 * quickly or edit one from "elsewhere".
 */
import WebSocket from "ws";
import { Entity } from "../../examples/code-review/src/schema.js";
import { KalphiteStore } from "../../src/index.js";
import { NetworkSyncEngine, type WebSocketConstructor } from "../../src/sync/index.js";

export type ReviewStore = KalphiteStore<Entity>;

export interface Writer {
  readonly store: ReviewStore;
  readonly engine: NetworkSyncEngine;
  /** Writes `count` comments spread over the file's lines; resolves when the server acknowledged all. */
  addComments(count: number, lines: number, prefix?: string): Promise<string[]>;
  /** Resolves once the outbox is empty (every change acknowledged). */
  acknowledged(): Promise<void>;
  close(): Promise<void>;
}

export async function openWriter(baseUrl: string, room: string, user: string): Promise<Writer> {
  const store = KalphiteStore(Entity);
  const engine = new NetworkSyncEngine({
    wsUrl: `${baseUrl.replace(/^http/, "ws")}/sync`,
    roomId: room,
    userId: user,
    authToken: "",
    store,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    conflictResolution: { strategy: "last-write-wins" },
  });
  await engine.connect();
  const acknowledged = () =>
    new Promise<void>((done) => {
      if (engine.getOfflineQueueSize() === 0) return done();
      const stop = engine.on("queue", (size) => {
        if (size === 0) {
          stop();
          done();
        }
      });
    });
  let next = 0;
  return {
    store,
    engine,
    async addComments(count, lines, prefix = `${user} says`) {
      const ids: string[] = [];
      const now = Date.now();
      store.batch(() => {
        for (let i = 0; i < count; i++) {
          const n = next++;
          const id = `${user}-${n}`;
          ids.push(id);
          store.comment.upsert(id, {
            id,
            type: "comment",
            updatedAt: now + n,
            data: {
              body: `${prefix} #${n}: check the retry bound on this line.`,
              lineNumber: (n % lines) + 1,
              author: user,
              status: "open",
              createdAt: now + n,
              updatedBy: user,
            },
          });
        }
      });
      await acknowledged();
      return ids;
    },
    acknowledged,
    close: () => engine.destroy(),
  };
}
