import type { PGlite, Transaction } from "@electric-sql/pglite";

/**
 * `pg.transaction(fn)`, then the write-out to the storage behind PGlite.
 *
 * PGlite writes its pages to IndexedDB (`idb://`) after a plain query, but not after a
 * transaction's COMMIT: without this, the last batch before a page reload could be lost.
 */
export async function durableTransaction<T>(
  pg: PGlite,
  fn: (tx: Transaction) => Promise<T>,
): Promise<T> {
  const result = await pg.transaction(fn);
  await pg.syncToFs();
  return result;
}
