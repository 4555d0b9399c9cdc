import type pg from "pg";
import type { Clock } from "../../internal/clock.js";
import { importOptional } from "../optional-dependency.js";
import { PostgresListener } from "../postgres-listener.js";
import { type SqlQuery, type SqlRows, type SqlStorageOptions, sqlStorage } from "./sql.js";
import type { SyncStorage } from "./storage.js";

/** A simple query's results: an array when the text held several statements. */
function resultsOf(result: pg.QueryResult | pg.QueryResult[]): SqlRows[] {
  return (Array.isArray(result) ? result : [result]).map((r) => ({ rows: r.rows }));
}

/** Options of `postgresStorage`. */
export interface PostgresStorageOptions extends SqlStorageOptions {
  /** A connection URL, e.g. `postgres://user@host:5432/db`. */
  url: string;
  /**
   * Pool size.
   * @default 10
   */
  maxConnections?: number;
  /**
   * `application_name` of the pool's connections (pg_stat_activity); the LISTEN connection's is
   * this plus `:listen`.
   * @default "kalphite"
   */
  applicationName?: string;
  /**
   * The LISTEN connection, which hears other processes' commits: when it breaks it reconnects
   * after `reconnectDelay` ms, doubling per failed attempt up to `maxReconnectDelay` (up to
   * 20% shorter, at random), and checks itself with `SELECT 1` every `healthCheckInterval` ms (0: never).
   * @default { reconnectDelay: 100, maxReconnectDelay: 5000, healthCheckInterval: 30000 }
   */
  listener?: {
    reconnectDelay?: number;
    maxReconnectDelay?: number;
    healthCheckInterval?: number;
    /** Its timers and jitter (tests drive them). @default systemClock */
    clock?: Clock;
  };
  /** Receives connection failures the storage survives (the LISTEN connection lost). @default console.error */
  onError?: (error: unknown) => void;
}

/**
 * PostgreSQL storage for scale-out: several server processes on one database serve the same
 * rooms; each commit is announced with NOTIFY and every process LISTENs, so a change written
 * through one reaches the clients of all. The LISTEN connection reconnects when it breaks and then
 * re-announces the head of every room this storage was asked about, so commits made while it was
 * down are broadcast too (the hub broadcasts each entry once, however often it hears a head).
 *
 * @example const storage = await postgresStorage({ url: process.env.DATABASE_URL! });
 */
export async function postgresStorage(options: PostgresStorageOptions): Promise<SyncStorage> {
  const pg = await importOptional<typeof import("pg")>("pg");
  const applicationName = options.applicationName ?? "kalphite";
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    application_name: applicationName,
    // Notices a peer gone without a word (a network path that died) on idle connections.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // The backends of this pool: a NOTIFY one of them sent announces this process's own commit.
  const ownBackends = new Set<number>();
  const backendOf = (client: pg.PoolClient) =>
    (client as unknown as { processID?: number }).processID;
  pool.on("connect", (client) => {
    const pid = backendOf(client);
    if (pid !== undefined) ownBackends.add(pid);
  });
  pool.on("remove", (client) => {
    const pid = backendOf(client);
    if (pid !== undefined) ownBackends.delete(pid);
  });
  pool.on("error", () => {
    // An idle client died; the pool replaces it. Queries report their own errors.
  });
  const query: SqlQuery = async (sql, params) => {
    const result = await pool.query(sql, params);
    return { rows: result.rows };
  };
  const listener = new PostgresListener({
    url: options.url,
    applicationName: `${applicationName}:listen`,
    ...options.listener,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  // The rooms the hub may hold (it asks each one's head first): after a reconnect, each one's
  // head is announced again, in the payload sqlStorage's NOTIFY carries ("<head>:<room>").
  const rooms = new Set<string>();
  const roomsTable = `${options.tablePrefix ?? "kalphite_"}rooms`;
  const close = async () => {
    await listener.close();
    await pool.end();
  };
  /** Runs `fn` on a client of its own; rolls back what it leaves open when it throws. */
  const checkedOut = async <R>(fn: (client: pg.PoolClient) => Promise<R>): Promise<R> => {
    const client = await pool.connect();
    // Checked out, a client has no error listener of the pool's: a connection killed
    // between two statements would otherwise be an uncaught 'error' event.
    let broken: Error | undefined;
    const onError = (error: Error) => {
      broken = error;
    };
    client.on("error", onError);
    try {
      return await fn(client);
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: Error) => {
        broken ??= rollbackError;
      });
      throw error;
    } finally {
      client.off("error", onError);
      // A broken connection is destroyed, not handed to the next transaction.
      client.release(broken);
    }
  };
  let storage: SyncStorage;
  try {
    storage = await sqlStorage(
      {
        query,
        transaction: (fn) =>
          checkedOut(async (client) => {
            await client.query("BEGIN");
            const result = await fn(async (sql, params) => ({
              rows: (await client.query(sql, params)).rows,
            }));
            await client.query("COMMIT");
            return result;
          }),
        // Several statements in one text go as one simple query: one round trip per step, the
        // transaction's BEGIN and COMMIT included.
        script: (first, next) =>
          checkedOut(async (client) => {
            const results = resultsOf(await client.query(["BEGIN", ...first].join(";\n")));
            const step = next(results.slice(1));
            await client.query([...step.statements, "COMMIT"].join(";\n"));
            return step.value;
          }),
        listen: (channel, onPayload) =>
          listener.listen(
            channel,
            (payload, senderPid) =>
              onPayload(payload, senderPid !== undefined && ownBackends.has(senderPid)),
            async (listenerQuery) => {
              if (rooms.size === 0) return;
              const heads = await listenerQuery<{ room_id: string; head: string }>(
                `SELECT room_id, head FROM ${roomsTable} WHERE room_id = ANY ($1::text[])`,
                [[...rooms]],
              );
              for (const row of heads.rows) onPayload(`${row.head}:${row.room_id}`);
            },
          ),
        close,
      },
      options,
    );
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  return {
    commit(roomId, changes, decide, commitOptions) {
      rooms.add(roomId);
      return storage.commit(roomId, changes, decide, commitOptions);
    },
    entriesAfter(roomId, after, limit) {
      rooms.add(roomId);
      return storage.entriesAfter(roomId, after, limit);
    },
    snapshot(roomId) {
      rooms.add(roomId);
      return storage.snapshot(roomId);
    },
    snapshotPage: (roomId, options) => storage.snapshotPage(roomId, options),
    entityCount: (roomId, atMost) => storage.entityCount(roomId, atMost),
    horizon: (roomId) => storage.horizon(roomId),
    compact: (roomId, options) => storage.compact(roomId, options),
    head(roomId) {
      rooms.add(roomId);
      return storage.head(roomId);
    },
    onCommit: (listener) => storage.onCommit(listener),
    close: () => storage.close(),
  };
}
