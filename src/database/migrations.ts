import type { PGlite } from "@electric-sql/pglite";
import { KalphitePersistenceError, KalphiteUsageError } from "../core/index.js";
import { durableTransaction } from "./durable-transaction.js";
import { withJsonbEntities } from "./json-columns.js";
import { migrationDatabase } from "./migration-database.js";
import { META, MIGRATIONS, queryError, RECOUNT_SIZES } from "./sql.js";
import type { Migration } from "./types.js";

/** The meta key mirroring the schema version, for tools that read only the metadata. */
export const SCHEMA_VERSION_KEY = "kalphite:schemaVersion";

/** Checks the list (positive integer versions, each once) and sorts it by version. */
export function sortMigrations(migrations: readonly Migration[]): Migration[] {
  const seen = new Set<number>();
  for (const migration of migrations) {
    const { version } = migration;
    if (!Number.isInteger(version) || version < 1) {
      throw new KalphiteUsageError(
        `Migration version ${String(version)} is not a positive integer: number migrations 1, 2, 3, ...`,
      );
    }
    if (seen.has(version)) {
      throw new KalphiteUsageError(`Two migrations have version ${version}: give each its own.`);
    }
    if (typeof migration.up !== "function" || typeof migration.down !== "function") {
      throw new KalphiteUsageError(`Migration ${version} needs both up(db) and down(db).`);
    }
    seen.add(version);
  }
  return [...migrations].sort((a, b) => a.version - b.version);
}

/** The version the database is at: the highest applied migration, 0 if none. */
export async function currentVersion(pg: PGlite): Promise<number> {
  const result = await pg.query<{ version: number | null }>(
    `select max(version) as version from ${MIGRATIONS}`,
  );
  return result.rows[0]?.version ?? 0;
}

/**
 * Moves the database to `target`: the `up`s above the current version in ascending order, or
 * the `down`s in descending order. Each step is one transaction with its version row, so a
 * failing step leaves the database at the previous version with its data.
 *
 * `sorted` comes from `sortMigrations` (checked and sorted once, when the database is created).
 */
export async function migrate(
  pg: PGlite,
  sorted: readonly Migration[],
  target: number,
): Promise<boolean> {
  const byVersion = new Map(sorted.map((migration) => [migration.version, migration]));
  const from = await currentVersion(pg);
  let version = from;
  const known = sorted.at(-1)?.version ?? 0;
  if (target > known) {
    throw new KalphiteUsageError(
      `Cannot migrate to version ${target}: the highest migration given is ${known}.`,
    );
  }
  if (version === target) return false;
  try {
    await withJsonbEntities(pg, async () => {
      while (version !== target) {
        const up = version < target;
        const step = up ? version + 1 : version;
        const migration = byVersion.get(step);
        if (!migration) {
          throw new KalphitePersistenceError(
            `The database is at schema version ${version} and migration ${step} is missing: pass every migration from 1 to ${Math.max(version, target)} in \`migrations\`.`,
          );
        }
        await runStep(pg, migration, up, version);
        version = up ? step : step - 1;
      }
    });
  } catch (error) {
    // The steps before the failing one stay committed, so their sizes still need fixing; the
    // step's error is the one to report.
    if (version !== from) await recountSizes(pg).catch(() => {});
    throw error;
  }
  if (version !== from) await recountSizes(pg);
  return version !== from;
}

/** One migration's `up` or `down` and its version row, in one transaction. */
async function runStep(
  pg: PGlite,
  migration: Migration,
  up: boolean,
  version: number,
): Promise<void> {
  const step = migration.version;
  try {
    await durableTransaction(pg, async (tx) => {
      await (up ? migration.up : migration.down)(migrationDatabase(tx));
      if (up) {
        await tx.query(`insert into ${MIGRATIONS} (version, applied_at) values ($1, $2)`, [
          step,
          Date.now(),
        ]);
      } else {
        await tx.query(`delete from ${MIGRATIONS} where version = $1`, [step]);
      }
      await writeVersion(tx, up ? step : step - 1);
    });
  } catch (error) {
    throw queryError(
      `Migration ${step} ${up ? "up" : "down"} (the database stays at version ${version})`,
      error,
    );
  }
}

/**
 * Raw SQL in a migration can change entities without updating their `size`: recount it once
 * after all the steps rather than in each, since it reads every entity.
 */
async function recountSizes(pg: PGlite): Promise<void> {
  try {
    await pg.exec(RECOUNT_SIZES);
  } catch (error) {
    throw queryError("Recounting entity sizes after the migrations", error, RECOUNT_SIZES);
  }
}

/** Records `version` in the metadata table. */
export async function writeVersion(tx: { query: PGlite["query"] }, version: number): Promise<void> {
  await tx.query(
    `insert into ${META} (key, value, size) values ($1, $2::jsonb, octet_length($2::jsonb::text))
     on conflict (key) do update set value = excluded.value, size = excluded.size`,
    [SCHEMA_VERSION_KEY, JSON.stringify(version)],
  );
}
