import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";
import { WebSocket } from "ws";
import { isRecord } from "../../src/protocol/messages.js";
import {
  createSyncServer,
  memoryStorage,
  type SyncServer,
  type SyncServerOptions,
} from "../../src/server/index.js";
import type { NetworkSyncEngine, WebSocketConstructor } from "../../src/sync/index.js";

export { POSTGRES_URL } from "../support/postgres.js";
export { uniqueName } from "../support/unique-name.js";
export const SECRET = "test-secret-for-kalphite";
const CLI = fileURLToPath(new URL("../../src/server/cli.ts", import.meta.url));

/** A temporary directory, removed by the returned cleanup. */
export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), "kalphite-sync-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Rejects after `ms` with `what` unless `promise` settles first. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)),
        ms,
      );
    }),
  ]);
}

/** A kalphite-server child process. */
export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** SIGKILL, resolves when it exited. */
  kill(): Promise<void>;
}

/** Starts `kalphite-server` (the CLI, through tsx) and resolves when it listens. */
export async function startServerProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
    env: { ...process.env, KALPHITE_SECRET: SECRET, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await withTimeout(
    new Promise<string>((resolve, reject) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (ws:\/\/\S+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once("exit", (code) =>
        reject(new Error(`kalphite-server exited (${code}): ${output}`)),
      );
    }),
    90_000,
    "kalphite-server to listen",
  ).catch((error: unknown) => {
    child.kill("SIGKILL");
    throw error;
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return {
    url,
    port: Number(new URL(url).port),
    child,
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/**
 * Resolves once `check()` is true, re-checking whenever one of the engines emits or a store
 * changes (no polling, no sleeps).
 */
export function waitUntil(
  check: () => boolean,
  sources: {
    engines?: NetworkSyncEngine[];
    stores?: { onChange(listener: () => void): () => void }[];
  },
  what: string,
  ms = 20_000,
  state?: () => string,
): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve) => {
      const stops: (() => void)[] = [];
      const wake = () => {
        if (!check()) return;
        for (const stop of stops) stop();
        resolve();
      };
      for (const engine of sources.engines ?? []) {
        for (const event of ["status", "change", "ack", "conflict", "synced", "error"] as const)
          stops.push(engine.on(event, () => queueMicrotask(wake)));
      }
      for (const store of sources.stores ?? [])
        stops.push(store.onChange(() => queueMicrotask(wake)));
      wake();
    }),
    ms,
    what,
  ).catch((error: Error) => {
    throw new Error(`${error.message}${state ? `; state: ${state()}` : ""}`);
  });
}

/** A raw WebSocket for sending hand-made (bad) messages. */
export interface RawClient {
  socket: WebSocket;
  send(message: unknown): void;
  /** The next message matching `predicate`. */
  next(
    predicate: (message: Record<string, any>) => boolean,
    what: string,
  ): Promise<Record<string, any>>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export async function rawClient(url: string): Promise<RawClient> {
  const socket = new WebSocket(url);
  const received: Record<string, any>[] = [];
  const waiters: {
    predicate: (m: Record<string, any>) => boolean;
    resolve: (m: Record<string, any>) => void;
  }[] = [];
  socket.on("message", (data) => {
    const message = JSON.parse(data.toString()) as Record<string, any>;
    const waiter = waiters.find((w) => w.predicate(message));
    if (waiter) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(message);
    } else received.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  socket.on("error", () => {});
  await withTimeout(new Promise((resolve) => socket.once("open", resolve)), 10_000, "socket open");
  return {
    socket,
    send: (message) => socket.send(typeof message === "string" ? message : JSON.stringify(message)),
    next(predicate, what) {
      const index = received.findIndex(predicate);
      if (index >= 0) return Promise.resolve(received.splice(index, 1)[0] as Record<string, any>);
      return withTimeout(
        new Promise((resolve) => waiters.push({ predicate, resolve })),
        10_000,
        what,
      );
    },
    closed,
    close: () => socket.close(),
  };
}

let counter = 0;
/** A protocol message envelope. */
export function envelope(
  type: string,
  payload: unknown,
  userId: string,
  messageId = `raw-${counter++}`,
) {
  return { type, payload, timestamp: Date.now(), userId, messageId };
}

/** JSON with object keys sorted, so equal values (e.g. after a jsonb round trip) compare equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRecord(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * The list of cleanups of a test file, run after each test, the last registered first.
 * @example const cleanups = cleanupAfterEach(); cleanups.push(() => server.close());
 */
export function cleanupAfterEach(): (() => Promise<unknown> | unknown)[] {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}

/** The `ws` package's WebSocket, typed as what the sync engine takes. */
export const WS = WebSocket as unknown as WebSocketConstructor;

/**
 * A sync server on a free loopback port, in memory, with development auth (any user, any room),
 * closed after the test.
 * @example const server = await devServer(cleanups); const { engine } = devClient(cleanups, { url: server.url });
 */
export async function devServer(
  cleanups: (() => Promise<unknown> | unknown)[],
  options: Partial<SyncServerOptions> = {},
): Promise<SyncServer> {
  const server = await createSyncServer({
    port: 0,
    storage: memoryStorage(),
    allowInsecureDevAuth: true,
    warn: () => {},
    ...options,
  });
  cleanups.push(() => server.close());
  return server;
}
