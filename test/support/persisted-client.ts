// A synced client persisted in a FrontendDatabase on disk (PGlite): the store, the database, the
// persistence writing the store into it and the engine keeping its sync state there, closed in
// that order's reverse. A separate file from dev-client.ts: tests under happy-dom do not load
// the database layer.
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { type Entity, type EntityOf, KalphiteStore } from "../../src/core/index.js";
import {
  FrontendDatabase,
  type Persistence,
  type PersistOptions,
  persist,
} from "../../src/database/index.js";
import { Entity as TestSchema } from "../fixtures/schema.js";
import { type DevClient, type DevClientOptions, devClient } from "./dev-client.js";

/** What a persisted client is opened with: the database's folder, and any devClient option. */
export type PersistedClientOptions<S> = Omit<DevClientOptions, "store" | "database"> & {
  /** The folder the database lives in. */
  dir: string;
  /** The schema of the store and the database. @default the test schema */
  schema?: S;
  /** What persist() is given. @default {} */
  persist?: PersistOptions;
};

/** A persisted client: its store and engine, the database under both, and their persistence. */
export interface PersistedClient<S extends StandardSchemaV1<any, Entity>>
  extends DevClient<ReturnType<typeof KalphiteStore<S>>> {
  db: FrontendDatabase<EntityOf<S>>;
  persistence: Persistence;
  /** Destroys the engine, stops the persistence and closes the database; once (after the test if not before). */
  close(): Promise<void>;
}

/**
 * A store and engine (see devClient) persisted in a FrontendDatabase on `dir`, closed after the
 * test unless closed before. Neither loaded nor connected: await `engine.whenLoaded()` or
 * `engine.connect()`.
 *
 * @example const ann = await persistedClient(cleanups, { dir: dir.path, url: server.url });
 */
export async function persistedClient<S extends StandardSchemaV1<any, Entity> = typeof TestSchema>(
  cleanups: (() => Promise<unknown> | unknown)[],
  options: PersistedClientOptions<S>,
): Promise<PersistedClient<S>> {
  const { dir, schema = TestSchema as unknown as S, persist: persistOptions, ...rest } = options;
  const store = KalphiteStore(schema);
  // Generic over the schema, which the database's and persist()'s types cannot follow.
  const db = new FrontendDatabase({ dbName: dir, schema: schema as never }) as FrontendDatabase<
    EntityOf<S>
  >;
  const persistence = await persist(store as never, db, persistOptions);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await engine.destroy();
    await persistence.stop();
    await db.close();
  };
  cleanups.push(close);
  // The engine's own cleanup (devClient's) runs first: destroying twice is harmless.
  const { engine } = devClient(cleanups, { ...rest, store, database: db });
  return { store, engine, db, persistence, close };
}
