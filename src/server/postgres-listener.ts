// The LISTEN side of postgresStorage: one dedicated connection that outlives PostgreSQL restarts,
// network blips, idle-connection kills and pg_terminate_backend. While it is down, NOTIFYs sent
// by other processes are lost (PostgreSQL queues them only for live listeners), so after every
// reconnect each channel's `onResync` runs once to make up for them.
import type pg from "pg";
import { KalphitePersistenceError, KalphiteUsageError } from "../core/index.js";
import { backoffDelay } from "../internal/backoff.js";
import { type Clock, systemClock, unrefTimer } from "../internal/clock.js";
import { importOptional } from "./optional-dependency.js";
import type { SqlQuery } from "./storage/sql.js";

/** Options of a PostgresListener. */
export interface PostgresListenerOptions {
  /** A connection URL. */
  url: string;
  /** `application_name` of the connection (shows in pg_stat_activity). */
  applicationName?: string;
  /**
   * First delay before reconnecting, in ms; doubles per failed attempt (each up to 20% shorter,
   * at random). @default 100
   */
  reconnectDelay?: number;
  /** Longest delay between attempts, in ms. @default 5000 */
  maxReconnectDelay?: number;
  /**
   * How often the connection is checked with `SELECT 1`, in ms (0: never). Catches a peer that
   * vanished without closing the socket, which no error would ever report. @default 30000
   */
  healthCheckInterval?: number;
  /** Receives what broke the connection (once per loss, not per failed attempt) and failed catch-ups. */
  onError?: (error: unknown) => void;
  /** Timers and the jitter's randomness (tests drive them). @default systemClock */
  clock?: Clock;
}

interface Channel {
  onPayload(payload: string, senderPid?: number): void;
  /**
   * Runs after each reconnect, once LISTEN is back, with the new connection's `query` (proven
   * alive, unlike a pooled connection that may have died with the old one). A rejection counts as
   * a failed attempt.
   */
  onResync(query: SqlQuery): Promise<void> | void;
}

/** Quotes an identifier: LISTEN takes one (unquoted it would be lowercased; pg_notify's is not). */
function identifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Ends a client politely, then for sure (a socket to a vanished peer may never answer). Never
 * rejects.
 */
async function shut(client: pg.Client, clock: Clock, graceMs = 1_000): Promise<void> {
  let timer: unknown;
  await Promise.race([
    Promise.resolve()
      .then(() => client.end())
      .catch(() => {}),
    new Promise<void>((resolve) => {
      timer = graceMs > 0 ? clock.setTimeout(resolve, graceMs) : resolve();
    }),
  ]);
  clock.clearTimeout(timer);
  try {
    client.connection.stream.destroy();
  } catch {
    // Already gone.
  }
}

/**
 * A LISTEN connection that reconnects with backoff (doubling, up to 20% shorter at random),
 * re-issues LISTEN for every channel and then calls each channel's `onResync`. `close()` stops
 * every attempt and timer.
 */
export class PostgresListener {
  readonly #options: PostgresListenerOptions;
  readonly #channels = new Map<string, Channel>();
  /** The live connection, LISTENing on every channel; undefined while down. */
  #client: pg.Client | undefined;
  /** A reconnect in progress (never rejects). */
  #attempt: Promise<void> | undefined;
  readonly #clock: Clock;
  #retry: unknown;
  #health: unknown;
  #failures = 0;
  #closed = false;

  constructor(options: PostgresListenerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Delivers `channel`'s payloads to `onPayload`, with the PID of the backend that sent each
   * (none for what `onResync` re-announces). The first call connects and throws if it cannot;
   * later calls during an outage only register (the reconnect listens). Returns a stop function.
   */
  async listen(
    channel: string,
    onPayload: (payload: string, senderPid?: number) => void,
    onResync: (query: SqlQuery) => Promise<void> | void = () => {},
  ): Promise<() => Promise<void>> {
    if (this.#closed) {
      throw new KalphiteUsageError(
        "The PostgreSQL listener is closed: listen() after close() hears nothing. Open a new storage.",
      );
    }
    this.#channels.set(channel, { onPayload, onResync });
    const client = this.#client;
    if (client) {
      await client.query(`LISTEN ${identifier(channel)}`).catch((error: unknown) => {
        // The connection broke: its handlers reconnect, and the reconnect listens to `channel`.
        if (this.#client === client) this.#lost(client, error);
      });
    } else if (!this.#attempt && !this.#retry) {
      try {
        const connected = await this.#connect();
        if (this.#closed) await shut(connected, this.#clock);
        else this.#adopt(connected);
      } catch (error) {
        this.#channels.delete(channel);
        throw error;
      }
    }
    return async () => {
      if (this.#channels.get(channel)?.onPayload !== onPayload) return;
      this.#channels.delete(channel);
      await this.#client?.query(`UNLISTEN ${identifier(channel)}`).catch(() => {});
    };
  }

  /** Stops listening and reconnecting; resolves once no connection or timer is left. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#clock.clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#clock.clearTimeout(this.#health);
    this.#health = undefined;
    // An attempt in progress sees #closed and ends what it opened.
    await this.#attempt;
    const client = this.#client;
    this.#client = undefined;
    if (client) await shut(client, this.#clock);
  }

  /** Opens a connection listening on every channel; throws (leaving nothing open) if it cannot. */
  async #connect(): Promise<pg.Client> {
    const { Client } = await importOptional<typeof import("pg")>("pg");
    const client = new Client({
      connectionString: this.#options.url,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: 10_000,
      // LISTEN, health checks and catch-up reads: none may hang an attempt (or close) forever.
      query_timeout: 10_000,
      ...(this.#options.applicationName ? { application_name: this.#options.applicationName } : {}),
    });
    // Until adopted, errors reach the pending connect or query; this only keeps them from
    // being thrown as unhandled 'error' events.
    client.on("error", (error) => {
      if (this.#client === client) this.#lost(client, error);
    });
    client.on("end", () => {
      if (this.#client === client)
        this.#lost(client, new KalphitePersistenceError("Connection ended"));
    });
    client.on("notification", (message) => {
      if (this.#closed || !message.payload) return;
      this.#channels.get(message.channel)?.onPayload(message.payload, message.processId);
    });
    try {
      await client.connect();
      for (const channel of [...this.#channels.keys()])
        await client.query(`LISTEN ${identifier(channel)}`);
    } catch (error) {
      await shut(client, this.#clock);
      throw error;
    }
    return client;
  }

  #adopt(client: pg.Client): void {
    this.#client = client;
    this.#scheduleCheck(client);
  }

  /** The next health check, `healthCheckInterval` after the previous one started. */
  #scheduleCheck(client: pg.Client): void {
    const interval = this.#options.healthCheckInterval ?? 30_000;
    if (interval <= 0) return;
    this.#health = this.#clock.setTimeout(() => {
      if (this.#client !== client) return;
      this.#scheduleCheck(client);
      this.#check(client, Math.min(interval, 10_000));
    }, interval);
    unrefTimer(this.#health);
  }

  /** `SELECT 1` within `ms`, or the connection is declared lost. */
  #check(client: pg.Client, ms: number): void {
    let timer: unknown;
    Promise.race([
      client.query("SELECT 1"),
      new Promise((_, reject) => {
        timer = this.#clock.setTimeout(
          () => reject(new KalphitePersistenceError(`No answer to a health check in ${ms} ms`)),
          ms,
        );
      }),
    ])
      .catch((error: unknown) => {
        if (this.#client === client) this.#lost(client, error);
      })
      .finally(() => this.#clock.clearTimeout(timer));
  }

  /** The current connection broke: drop it and reconnect. */
  #lost(client: pg.Client, error: unknown): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#clock.clearTimeout(this.#health);
    this.#health = undefined;
    void shut(client, this.#clock, 0);
    if (this.#closed) return;
    this.#report(
      `the PostgreSQL LISTEN connection was lost (${describe(error)}); reconnecting. Until it is back, this process's clients get other processes' commits only by asking (heartbeats).`,
      error,
    );
    this.#schedule();
  }

  #report(message: string, cause: unknown): void {
    const error = new KalphitePersistenceError(`kalphite: ${message}`, { cause });
    if (this.#options.onError) this.#options.onError(error);
    else console.error(error);
  }

  #schedule(): void {
    if (this.#closed || this.#client || this.#retry || this.#attempt) return;
    const delay = backoffDelay(
      this.#failures,
      {
        base: this.#options.reconnectDelay ?? 100,
        max: this.#options.maxReconnectDelay ?? 5_000,
        jitter: 0.2,
      },
      () => this.#clock.random(),
    );
    this.#retry = this.#clock.setTimeout(() => {
      this.#retry = undefined;
      this.#attempt = this.#reconnect().finally(() => {
        this.#attempt = undefined;
        // Failed, or lost again while catching up: try again later.
        if (!this.#client) this.#schedule();
      });
    }, delay);
    unrefTimer(this.#retry);
  }

  async #reconnect(): Promise<void> {
    let client: pg.Client;
    try {
      client = await this.#connect();
    } catch {
      this.#failures++;
      return;
    }
    if (this.#closed) {
      await shut(client, this.#clock);
      return;
    }
    this.#adopt(client);
    try {
      // LISTEN is back, so whatever was committed before it is visible to these reads and
      // whatever is committed after it is announced: nothing falls in between.
      const query: SqlQuery = async (sql, params) => ({
        rows: (await client.query(sql, params)).rows,
      });
      for (const channel of [...this.#channels.values()]) await channel.onResync(query);
      this.#failures = 0;
    } catch (error) {
      this.#failures++;
      // Caught up only partly: drop this connection so the next one catches up again.
      if (this.#client === client) {
        this.#client = undefined;
        this.#clock.clearTimeout(this.#health);
        this.#health = undefined;
        await shut(client, this.#clock);
      }
      if (!this.#closed)
        this.#report(
          `catching up after the LISTEN connection came back failed (${describe(error)}); retrying.`,
          error,
        );
    }
  }
}
