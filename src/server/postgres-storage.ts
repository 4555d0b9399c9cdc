import pg from "pg";
import { type SqlQuery, type SqlStorageOptions, sqlStorage } from "./sql-storage.js";
import type { SyncStorage } from "./storage.js";

/** Options of `postgresStorage`. */
export interface PostgresStorageOptions extends SqlStorageOptions {
  /** A connection URL, e.g. `postgres://user@host:5432/db`. */
  url: string;
  /**
   * Pool size.
   * @default 10
   */
  maxConnections?: number;
}

/**
 * PostgreSQL storage for scale-out: several server processes on one database serve the same
 * rooms; each commit is announced with NOTIFY and every process LISTENs, so a change written
 * through one reaches the clients of all.
 *
 * @example const storage = await postgresStorage({ url: process.env.DATABASE_URL! });
 */
export async function postgresStorage(options: PostgresStorageOptions): Promise<SyncStorage> {
  const pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 10 });
  pool.on("error", () => {
    // An idle client died; the pool replaces it. Queries report their own errors.
  });
  const query: SqlQuery = async (sql, params) => {
    const result = await pool.query(sql, params);
    return { rows: result.rows };
  };
  return sqlStorage(
    {
      query,
      async transaction(fn) {
        const client = await pool.connect();
        try {
          await client.query("BEGIN");
          const result = await fn(async (sql, params) => ({
            rows: (await client.query(sql, params)).rows,
          }));
          await client.query("COMMIT");
          return result;
        } catch (error) {
          await client.query("ROLLBACK").catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      },
      async listen(channel, onPayload) {
        const client = new pg.Client({ connectionString: options.url });
        await client.connect();
        client.on("notification", (message) => {
          if (message.channel === channel && message.payload) onPayload(message.payload);
        });
        client.on("error", () => {
          // The listener connection broke; clients' heartbeats fetch what they missed.
        });
        await client.query(`LISTEN ${channel}`);
        return async () => {
          await client.end().catch(() => {});
        };
      },
      close: () => pool.end(),
    },
    options,
  );
}
