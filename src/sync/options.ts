// The options of a NetworkSyncEngine: their types, defaults and checks.

import type { ChangeInput, Entity, StoreChange } from "../core/index.js";
import { KalphiteUsageError } from "../core/index.js";
import { needsMethods } from "../internal/options.js";
import { CONFLICT_STRATEGIES } from "../protocol/messages.js";
import type { SyncPersistence, SyncStateSource } from "./persistence.js";
import type { ConflictResolution, SyncOptions } from "./types.js";

/** The part of a WebSocket the engine uses; the browser's WebSocket and `ws` both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
}

/** A WebSocket constructor: `globalThis.WebSocket`, or `WebSocket` from `ws` on Node 20. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The store methods the engine uses (any KalphiteStore). */
export interface SyncStore {
  onChange(listener: (change: StoreChange) => void): () => void;
  apply(changes: readonly ChangeInput[], origin: "remote"): unknown;
  batch<R>(fn: () => R): R;
  collection(entityType: string): {
    findById(id: string): Entity | undefined;
    upsert(id: string, entity: never): unknown;
  };
}

/** Timers and clock, injectable so tests can drive time. */
export interface SyncClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The clock of a real engine: the platform's time and timers. */
export const REAL_CLOCK: SyncClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Options of `new NetworkSyncEngine(...)`. The constructor checks them all and throws a
 * `KalphiteUsageError` naming the first bad one (nothing is started then).
 */
export interface NetworkSyncEngineOptions extends SyncOptions {
  /** The store to sync: its local changes are sent, remote ones written into it. */
  store: any;
  /**
   * How this client's concurrent edits are resolved by the server: `strategy` is one of
   * `"last-write-wins"`, `"operational-transform"` or `"manual"`; `manual` needs a `resolver`.
   * Anything else throws `KalphiteUsageError` here.
   * @default { strategy: "last-write-wins" }
   */
  conflictResolution?: ConflictResolution;
  /**
   * Where the outbox, cursor and server versions are kept between runs.
   * @default in memory only (or `database.syncState(roomId)` when `database` is given)
   */
  persistence?: SyncPersistence;
  /**
   * A FrontendDatabase (`kalphite/database`) to persist the sync state in (its sync tables,
   * `database.syncState(roomId)`), committed with the entity rows of `persist(store, database)`.
   */
  database?: SyncStateSource;
  /**
   * The WebSocket constructor.
   * @default globalThis.WebSocket
   */
  WebSocket?: WebSocketConstructor;
  /**
   * First reconnect delay in ms (at least 1); doubles per failed attempt, with jitter.
   * @default 500
   */
  reconnectDelay?: number;
  /**
   * Longest reconnect delay in ms (at least `reconnectDelay`).
   * @default 30000 (or `reconnectDelay` when that is longer)
   */
  maxReconnectDelay?: number;
  /** @default real timers and Date.now */
  clock?: SyncClock;
  /** @default Math.random */
  random?: () => number;
  /** Creates message ids. @default crypto.randomUUID */
  createMessageId?: () => string;
  /**
   * The pace at which this client sends messages, kept under the server's `rateLimit` (by
   * default 200 messages per second with a burst of 400 per connection) so that a large outbox,
   * sent after being offline, is not refused. If the server still refuses some (it sends
   * `rate-limited`), the client pauses, halves its pace and resends them: that is announced
   * on `throttled`, not on `error`. Raise it only with the server's `rateLimit`.
   * @default { messagesPerSecond: 180, burst: 300 }
   */
  sendRate?: SendRate;
}

/** The seed's name for `NetworkSyncEngineOptions`. */
export type NetworkSyncEngineConfig = NetworkSyncEngineOptions;

/** A message budget: a sustained rate and a burst above it (see `sendRate`). */
export interface SendRate {
  /** Sustained messages per second (more than 0). @default 180 */
  messagesPerSecond?: number;
  /** Messages that may go at once above the sustained rate (at least 1). @default 300 */
  burst?: number;
}

/** The longest delay timers honour (2^31 - 1 ms); a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** The smallest `heartbeatInterval`: below it the handshake cannot finish within two intervals. */
const MIN_HEARTBEAT_INTERVAL = 20;

/**
 * Checks every option at construction, so a typo throws a `KalphiteUsageError` that names it
 * instead of surfacing later as a connection that never settles (`heartbeatInterval: 0`), flaps
 * (`1`) or gives up at once (`reconnectAttempts: -5`). Returns the numbers with defaults applied.
 */
export function checkedOptions(config: NetworkSyncEngineOptions): {
  reconnectAttempts: number;
  heartbeatInterval: number;
  reconnectDelay: number;
  maxReconnectDelay: number;
  messagesPerSecond: number;
  burst: number;
} {
  if (config === null || typeof config !== "object") {
    throw new KalphiteUsageError("NetworkSyncEngine needs { wsUrl, roomId, userId, store }.");
  }
  checkUrl(config.wsUrl);
  for (const name of ["roomId", "userId"] as const) {
    const value = config[name];
    if (typeof value !== "string" || value.length === 0 || value.length > 512) {
      throw new KalphiteUsageError(
        `${name} must be a non-empty string of at most 512 characters, got ${describe(value)}.`,
      );
    }
  }
  if (config.authToken !== undefined && typeof config.authToken !== "string") {
    throw new KalphiteUsageError(
      `authToken must be a string (a token from signToken, or "" with an insecure dev server), got ${describe(config.authToken)}.`,
    );
  }
  if (!config.store || typeof config.store.onChange !== "function") {
    throw new KalphiteUsageError("NetworkSyncEngine needs a KalphiteStore as `store`.");
  }
  for (const name of ["WebSocket", "random", "createMessageId"] as const) {
    if (config[name] !== undefined && typeof config[name] !== "function") {
      throw new KalphiteUsageError(`${name} must be a function, got ${describe(config[name])}.`);
    }
  }
  needsMethods("clock", config.clock, ["now", "setTimeout", "clearTimeout"]);
  needsMethods("persistence", config.persistence, ["load", "record", "flush"]);
  needsMethods("database", config.database, ["syncState"]);

  const reconnectAttempts = config.reconnectAttempts ?? 10;
  if (
    typeof reconnectAttempts !== "number" ||
    !(Number.isSafeInteger(reconnectAttempts) || reconnectAttempts === Number.POSITIVE_INFINITY) ||
    reconnectAttempts < 0
  ) {
    throw new KalphiteUsageError(
      `reconnectAttempts must be a whole number ≥ 0 (or Infinity to never give up), got ${describe(reconnectAttempts)}.`,
    );
  }
  const heartbeatInterval = milliseconds(
    "heartbeatInterval",
    config.heartbeatInterval,
    15_000,
    MIN_HEARTBEAT_INTERVAL,
  );
  const reconnectDelay = milliseconds("reconnectDelay", config.reconnectDelay, 500, 1);
  const maxReconnectDelay = milliseconds(
    "maxReconnectDelay",
    config.maxReconnectDelay,
    Math.max(30_000, reconnectDelay),
    reconnectDelay,
  );
  const sendRate = config.sendRate ?? {};
  if (sendRate === null || typeof sendRate !== "object") {
    throw new KalphiteUsageError(
      `sendRate must be an object such as { messagesPerSecond: 180, burst: 300 }, got ${describe(sendRate)}.`,
    );
  }
  const messagesPerSecond = sendRate.messagesPerSecond ?? 180;
  if (
    typeof messagesPerSecond !== "number" ||
    !Number.isFinite(messagesPerSecond) ||
    messagesPerSecond <= 0
  ) {
    throw new KalphiteUsageError(
      `sendRate.messagesPerSecond must be a finite number above 0 (keep it under the server's rateLimit), got ${describe(messagesPerSecond)}.`,
    );
  }
  const burst = sendRate.burst ?? 300;
  if (typeof burst !== "number" || !Number.isSafeInteger(burst) || burst < 1) {
    throw new KalphiteUsageError(
      `sendRate.burst must be a whole number ≥ 1 (keep it under the server's rateLimit.burst), got ${describe(burst)}.`,
    );
  }
  return {
    reconnectAttempts,
    heartbeatInterval,
    reconnectDelay,
    maxReconnectDelay,
    messagesPerSecond,
    burst,
  };
}

/** A finite duration in ms within [min, 2^31 - 1], or the default. */
function milliseconds(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > MAX_TIMER_MS) {
    throw new KalphiteUsageError(
      `${name} must be a number of milliseconds from ${min} to ${MAX_TIMER_MS}, got ${describe(value)}.`,
    );
  }
  return value;
}

function checkUrl(wsUrl: unknown): void {
  let protocol: string | undefined;
  try {
    if (typeof wsUrl === "string") protocol = new URL(wsUrl).protocol;
  } catch {
    // Not a URL: reported below.
  }
  if (protocol !== "ws:" && protocol !== "wss:") {
    throw new KalphiteUsageError(
      `wsUrl must be an absolute ws:// or wss:// URL such as "ws://localhost:8787", got ${describe(wsUrl)}.` +
        (protocol === "http:" || protocol === "https:"
          ? ` Use ${protocol === "https:" ? "wss" : "ws"}:// for the sync server.`
          : ""),
    );
  }
}

/**
 * Checks `conflictResolution` at construction: an unknown strategy would make the server refuse
 * every change (the outbox would resend forever), and `manual` without a resolver would drop this
 * client's concurrent edits with nothing to resolve them.
 */
export function conflictResolution(resolution: ConflictResolution | undefined): ConflictResolution {
  if (resolution === undefined) return { strategy: "last-write-wins" };
  const valid = CONFLICT_STRATEGIES.map((name) => `"${name}"`).join(", ");
  if (resolution === null || typeof resolution !== "object") {
    throw new KalphiteUsageError(
      `conflictResolution must be an object such as { strategy: "last-write-wins" }, got ${describe(resolution)}.`,
    );
  }
  if (!CONFLICT_STRATEGIES.includes(resolution.strategy)) {
    throw new KalphiteUsageError(
      `conflictResolution.strategy must be one of ${valid}, got ${describe(resolution.strategy)}.`,
    );
  }
  if (resolution.resolver !== undefined && typeof resolution.resolver !== "function") {
    throw new KalphiteUsageError(
      `conflictResolution.resolver must be a function (local, remote) => entity, got ${describe(resolution.resolver)}.`,
    );
  }
  if (resolution.strategy === "manual" && resolution.resolver === undefined) {
    throw new KalphiteUsageError(
      "conflictResolution { strategy: \"manual\" } needs a resolver(local, remote) => entity: without one, this client's concurrent edits would be dropped. To keep the server's version and decide later (e.g. in your UI from the `conflict` event), pass `resolver: (local, remote) => remote`.",
    );
  }
  return resolution;
}

/** A value as it should appear in a configuration error. */
function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (typeof value === "object" && value !== null)
    return Array.isArray(value) ? "an array" : "an object";
  return String(value);
}
