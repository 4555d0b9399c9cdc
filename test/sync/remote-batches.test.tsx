// @vitest-environment happy-dom
// Remote changes in batches: 1,000 changes arriving in 50 frames, read within one task, are
// applied in one store batch: one notification, a handful of renders, one flush batch.
// The peer is a scripted server on a real socket (ws on loopback port 0) that answers the
// handshake and then sends the 50 catch-up frames in one go, as a busy room's server would.
// TCP may hand those 250 KB over in several reads, spread over tasks when the machine is busy;
// the client's socket below passes them on in one task once all are in, as a browser reading one
// large chunk does, so the test pins "read within one task" instead of the kernel's chunking.
import { act, render } from "@testing-library/react";
import { createElement } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { KalphiteStore } from "../../src/core/index.js";
import { MemoryFlushEngine } from "../../src/flush/index.js";
import type { LogEntry } from "../../src/protocol/index.js";
import { useValue } from "../../src/react/index.js";
import type { WebSocketConstructor, WebSocketLike } from "../../src/sync/index.js";
import { comment, Entity, logUpsert } from "../fixtures/schema.js";
import { devClient } from "../support/dev-client.js";

// test/server/helpers.ts reads files at load, which happy-dom's URL does not allow: kept local.
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Resolves once `check()` holds, looking again after every change of the store. */
function whenStore(store: { onChange(listener: () => void): () => void }, check: () => boolean) {
  return new Promise<void>((resolve) => {
    const stop = store.onChange(() => {
      if (check()) {
        stop();
        queueMicrotask(resolve);
      }
    });
    if (check()) resolve();
  });
}

/** A server that welcomes and then sends `frames` catch-up frames of `perFrame` entries at once. */
async function burstServer(frames: number, perFrame: number): Promise<string> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
  const head = frames * perFrame;
  const envelope = (type: string, payload: unknown) =>
    JSON.stringify({ type, payload, timestamp: 1, userId: "server", messageId: `s-${type}` });
  wss.on("connection", (socket) => {
    socket.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (message.type !== "hello") return;
      socket.send(envelope("welcome", { roomId: "room", userId: "ann", head: 0, entries: [] }));
      for (let f = 0; f < frames; f++) {
        const entries: LogEntry[] = [];
        for (let i = 0; i < perFrame; i++) {
          const seq = f * perFrame + i + 1;
          entries.push(logUpsert(seq, comment(`c${seq}`, { lineNumber: seq })));
        }
        socket.send(envelope("catch-up", { head, entries }));
      }
    });
  });
  const address = wss.address() as { port: number };
  return `ws://127.0.0.1:${address.port}`;
}

/**
 * A `ws` client socket that holds the first `count` messages it reads and hands them to
 * `onmessage` together, in one task; later messages pass straight through.
 */
function socketReadingTogether(count: number): WebSocketConstructor {
  return class implements WebSocketLike {
    readonly #ws: WebSocket;
    readonly #held: unknown[] = [];
    onopen: ((event: unknown) => void) | null = null;
    onmessage: ((event: unknown) => void) | null = null;
    onclose: ((event: unknown) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;
    constructor(url: string) {
      this.#ws = new WebSocket(url);
      this.#ws.onopen = (event) => this.onopen?.(event);
      this.#ws.onclose = (event) => this.onclose?.(event);
      this.#ws.onerror = (event) => this.onerror?.(event);
      this.#ws.onmessage = (event) => {
        if (this.#held.length === count) return this.onmessage?.(event);
        this.#held.push(event);
        if (this.#held.length === count) for (const held of this.#held) this.onmessage?.(held);
      };
    }
    get readyState(): number {
      return this.#ws.readyState;
    }
    send(data: string): void {
      this.#ws.send(data);
    }
    close(code?: number, reason?: string): void {
      this.#ws.close(code, reason);
    }
  };
}

describe("remote changes in batches", { timeout: 60_000 }, () => {
  it("1,000 changes in 50 frames: one store notification, one flush batch, a handful of renders", async () => {
    const url = await burstServer(50, 20);
    const store = KalphiteStore(Entity);
    // The flush engine persist() uses (PGlite does not load under happy-dom: the batch and its
    // one transaction are checked against a real database in test/database/sync-state.test.ts).
    const written: number[] = [];
    const flush = new MemoryFlushEngine({
      maxBatchSize: 10_000,
      flushTarget: async (changes) => {
        written.push(changes.length);
      },
    });
    const detach = flush.attach(store);
    cleanups.push(async () => {
      detach();
      await flush.destroy();
    });
    // Destroyed first: its cleanup runs before the one above.
    // The welcome and the 50 frames reach the engine in one task.
    const { engine } = devClient(cleanups, { url, store, WebSocket: socketReadingTogether(51) });
    let notifications = 0;
    store.subscribe(() => notifications++);
    let renders = 0;
    function Count() {
      renders++;
      const count = useValue(() => store.comment.length);
      return createElement("output", null, String(count));
    }
    const view = render(createElement(Count));
    const before = renders;

    await act(async () => {
      await engine.connect();
      await whenStore(store, () => store.comment.length === 1_000);
    });
    await flush.flush();

    expect(view.container.textContent).toBe("1000");
    expect(notifications).toBeLessThanOrEqual(2);
    expect(renders - before).toBeLessThanOrEqual(5);
    expect(written).toEqual([1_000]);
    expect(engine.getCursor()).toBe(1_000);
    view.unmount();
  });
});
