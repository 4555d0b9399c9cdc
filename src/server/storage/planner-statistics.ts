// The planner's statistics of an embedded PGlite, kept as autovacuum would keep them.
//
// PGlite runs no autovacuum (and counts no changes per table), so without this its tables are
// never analyzed. Without column statistics the planner takes `room_id = $1` to match 0.5% of
// the rows, so for "the next page after this key" or "the entries after this cursor" it picks a
// bitmap scan of every later row and a sort, not a walk of the primary key: a join of a
// 100,000-entity room read the room ~100 times over (67 ms a page instead of 0.6 ms) and took
// 11 s, a catch-up of a reader 95,000 entries behind cost 205 ms a page instead of 0.5 ms.

/** The two calls into PGlite this needs. */
export interface AnalyzedDatabase {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  exec(sql: string): Promise<unknown>;
}

/** Counts the rows written and analyzes the tables when they have changed enough. */
export interface PlannerStatistics {
  /** `rows` rows were written (inserted or updated) in the tables. */
  wrote(rows: number): void;
  /** Waits for an ANALYZE in progress (before the database closes). */
  settle(): Promise<void>;
}

/** As autovacuum's defaults: analyze once the rows written pass 50 + 10% of the table. */
const THRESHOLD_ROWS = 50;
const THRESHOLD_FRACTION = 0.1;

interface TableSize {
  relname: string;
  /** Rows at the last ANALYZE (-1: never analyzed). */
  reltuples: number;
  /** Pages at the last ANALYZE. */
  relpages: number;
  /** Pages now. */
  pages: number;
}

/**
 * Analyzes `tables` now if they were never analyzed or have grown by more than a tenth since
 * (a previous process wrote them), then again whenever the rows written since the last ANALYZE
 * pass 50 + 10% of the largest table. One ANALYZE reads a sample of at most 30,000 rows, so its
 * cost stops growing with the room, and the geometric threshold makes it rarer as the room grows.
 * A failed ANALYZE is retried at the next threshold: it only makes plans worse, never data wrong.
 *
 * @example const statistics = await keepPlannerStatistics(db, ["kalphite_log", "kalphite_entities"]);
 */
export async function keepPlannerStatistics(
  db: AnalyzedDatabase,
  tables: readonly string[],
): Promise<PlannerStatistics> {
  const analyze = `ANALYZE ${tables.join(", ")}`;
  const sizes = async () =>
    (
      await db.query<TableSize>(
        `SELECT relname, reltuples::float8 AS reltuples, relpages::float8 AS relpages,
           (pg_relation_size(oid) / current_setting('block_size')::int)::float8 AS pages
         FROM pg_class WHERE relname = ANY($1::text[]) AND relkind = 'r'`,
        [tables],
      )
    ).rows;
  const largest = (rows: TableSize[]) => Math.max(0, ...rows.map((row) => row.reltuples));

  let found = await sizes();
  const stale = found.some(
    (row) => row.pages > 0 && (row.reltuples < 0 || row.pages > row.relpages * 1.1 + 8),
  );
  if (stale) {
    await db.exec(analyze);
    found = await sizes();
  }
  let rows = largest(found);
  let written = 0;
  let running: Promise<void> | undefined;
  return {
    wrote(count) {
      written += count;
      if (running || written <= THRESHOLD_ROWS + THRESHOLD_FRACTION * rows) return;
      written = 0;
      running = db
        .exec(analyze)
        .then(sizes)
        .then(
          (after) => {
            rows = largest(after);
          },
          () => {
            // Plans stay as they were; the next threshold tries again.
          },
        )
        .finally(() => {
          running = undefined;
        });
    },
    async settle() {
      await running;
    },
  };
}
