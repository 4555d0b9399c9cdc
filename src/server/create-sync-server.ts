import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { KalphiteSyncError } from "../core/index.js";
import { type Authenticator, insecureDevAuthenticator, tokenAuthenticator } from "./auth.js";
import { SyncHub, type SyncHubOptions } from "./hub/hub.js";
import type { RateLimit } from "./hub/rate-limit.js";
import { importOptional } from "./optional-dependency.js";
import { pgliteStorage } from "./storage/pglite.js";
import { postgresStorage } from "./storage/postgres.js";
import type { SyncStorage } from "./storage/storage.js";
import { entityValidator } from "./validate.js";

/** Options of `createSyncServer`. */
export interface SyncServerOptions {
  /**
   * Port to listen on (0 = any free port). Ignored when `server` is given.
   * @default 8787
   */
  port?: number;
  /**
   * Interface to listen on.
   * @default "127.0.0.1"
   */
  host?: string;
  /** An existing HTTP server to attach to (its upgrade requests on `path`). */
  server?: HttpServer;
  /**
   * The URL path WebSocket clients connect to.
   * @default any path
   */
  path?: string;
  /**
   * The entity schema (any Standard Schema). Upserts it rejects are refused.
   * @default none: any entity with id, type and updatedAt is accepted
   */
  schema?: StandardSchemaV1;
  /**
   * Where rooms are stored.
   * @default PGlite in `dataDir`, or PostgreSQL when `postgresUrl` is set
   */
  storage?: SyncStorage;
  /**
   * The data directory of the default PGlite storage.
   * @default "./.data/server"
   */
  dataDir?: string;
  /** A PostgreSQL URL: store there (and scale out across processes sharing it). */
  postgresUrl?: string;
  /** Table prefix in PGlite/PostgreSQL. @default "kalphite_" */
  tablePrefix?: string;
  /**
   * Decides who a connection is.
   * @default signed tokens (`signToken`) verified with `secret`
   */
  authenticate?: Authenticator;
  /**
   * The HMAC secret of the default authenticator.
   * @default process.env.KALPHITE_SECRET
   */
  secret?: string;
  /**
   * Without a secret or authenticator, believe the user id clients claim. Development only; logs a warning.
   * @default false
   */
  allowInsecureDevAuth?: boolean;
  /**
   * Largest accepted message; larger ones close the connection with 1009.
   * @default 1048576 (1 MiB)
   */
  maxMessageBytes?: number;
  /** @default { messagesPerSecond: 200, burst: 400, closeAfter: 100 } */
  rateLimit?: RateLimit;
  /** The deepest nesting of an entity (see `SyncHubOptions.maxDepth`). @default 64 */
  maxDepth?: number;
  /** Pages of joins, catch-ups and broadcasts are cut at this size. @default 262144 (256 KiB) */
  maxFrameBytes?: number;
  /** A connection's unsent backlog above this is closed with 1013. @default 4194304 (4 MiB) */
  maxBacklogBytes?: number;
  /** How far past the server's clock an `updatedAt` may be ordered, in ms. @default 0 */
  maxClockSkew?: number;
  /**
   * Background compaction of each room's log (see `SyncHubOptions.compaction`); false: never.
   * @default { interval: 60000, keepEntries: 10000, tombstoneTtl: 30 days }
   */
  compaction?: SyncHubOptions["compaction"];
  /** Receives errors the server survives (storage failures). @default console.error */
  onError?: (error: unknown) => void;
  /** Where the insecure-mode warning goes. @default console.warn */
  warn?: (message: string) => void;
}

/** A running sync server. */
export interface SyncServer {
  /** The port it listens on. */
  readonly port: number;
  /** `ws://host:port` for clients. */
  readonly url: string;
  /** The hub (rooms and connections). */
  readonly hub: SyncHub;
  /** Closes every connection, stops listening and closes the storage it created. */
  close(): Promise<void>;
}

/**
 * Starts a Kalphite sync server on `ws`.
 *
 * @example
 * const server = await createSyncServer({ port: 8787, schema: Entity }); // KALPHITE_SECRET set
 * console.log(`sync on ${server.url}`);
 */
export async function createSyncServer(options: SyncServerOptions = {}): Promise<SyncServer> {
  // Before anything is opened: without `ws` there is no server to start.
  const { WebSocketServer } = await importOptional<typeof import("ws")>("ws");
  const warn = options.warn ?? ((message: string) => console.warn(message));
  let authenticate = options.authenticate;
  if (!authenticate) {
    const secret = options.secret ?? process.env.KALPHITE_SECRET;
    if (secret) authenticate = tokenAuthenticator(secret);
    else if (options.allowInsecureDevAuth) {
      warn(
        "kalphite-server: INSECURE development mode: no KALPHITE_SECRET, so any client can claim any user id. Never expose this server.",
      );
      authenticate = insecureDevAuthenticator;
    } else {
      throw new KalphiteSyncError(
        "The sync server needs a secret to verify tokens: set KALPHITE_SECRET (or pass `secret` or `authenticate`). For local development only, pass allowInsecureDevAuth: true (CLI: --insecure).",
        { code: "no-secret" },
      );
    }
  }
  const ownsStorage = options.storage === undefined;
  const storage =
    options.storage ??
    (options.postgresUrl
      ? await postgresStorage({
          url: options.postgresUrl,
          ...(options.tablePrefix ? { tablePrefix: options.tablePrefix } : {}),
          // A lost LISTEN connection is reported where the server reports everything else.
          ...(options.onError ? { onError: options.onError } : {}),
        })
      : await pgliteStorage({
          dataDir: options.dataDir ?? "./.data/server",
          ...(options.tablePrefix ? { tablePrefix: options.tablePrefix } : {}),
        }));
  const maxMessageBytes = options.maxMessageBytes ?? 1 << 20;
  const hub = new SyncHub({
    storage,
    authenticate,
    validate: entityValidator(options.schema),
    maxMessageBytes,
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
    ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}),
    ...(options.maxFrameBytes !== undefined ? { maxFrameBytes: options.maxFrameBytes } : {}),
    ...(options.maxBacklogBytes !== undefined ? { maxBacklogBytes: options.maxBacklogBytes } : {}),
    ...(options.maxClockSkew !== undefined ? { maxClockSkew: options.maxClockSkew } : {}),
    ...(options.compaction !== undefined ? { compaction: options.compaction } : {}),
  });
  const wss = options.server
    ? new WebSocketServer({
        server: options.server,
        maxPayload: maxMessageBytes,
        ...(options.path ? { path: options.path } : {}),
      })
    : new WebSocketServer({
        port: options.port ?? 8787,
        host: options.host ?? "127.0.0.1",
        maxPayload: maxMessageBytes,
        ...(options.path ? { path: options.path } : {}),
      });
  wss.on("connection", (socket) => {
    const connection = hub.open({
      send: (text) => socket.send(text),
      sendUtf8: (bytes) => socket.send(bytes, { binary: false }),
      close: (code, reason) => socket.close(code, reason),
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
    });
    socket.on("message", (data, isBinary) => {
      connection.receive(isBinary ? "\u0000binary" : data.toString());
    });
    socket.on("close", () => connection.closed());
    socket.on("error", () => {
      // ws closes the socket (1009 for an oversized message); the close handler cleans up.
    });
  });
  if (!options.server) {
    try {
      await new Promise<void>((resolve, reject) => {
        wss.once("listening", resolve);
        wss.once("error", reject);
      });
    } catch (cause) {
      // Nothing listens: close what was opened (the hub's timers, the storage and its lock).
      await hub.close();
      if (ownsStorage) await storage.close();
      throw new KalphiteSyncError(
        `The sync server could not listen on ${options.host ?? "127.0.0.1"}:${options.port ?? 8787}: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
  const address = (options.server ? options.server.address() : wss.address()) as AddressInfo | null;
  const port = address?.port ?? 0;
  const host = options.host ?? "127.0.0.1";
  let closed = false;
  return {
    port,
    url: `ws://${host.includes(":") ? `[${host}]` : host}:${port}${options.path ?? ""}`,
    hub,
    async close() {
      if (closed) return;
      closed = true;
      await hub.close();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      if (ownsStorage) await storage.close();
    },
  };
}
