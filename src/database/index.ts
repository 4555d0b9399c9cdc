// `kalphite/database`: the only entry that loads PGlite.

// Everything of kalphite/flush, so that one import gives the whole persistence layer.
export * from "../flush/index.js";
export type { BackupContent } from "./backup-format.js";
export { FrontendDatabase } from "./frontend-database.js";
export { type Persistence, type PersistOptions, persist } from "./persist.js";
export { isDatabaseLocked, type TabLockMode, type TabLockOptions } from "./tab-lock.js";
export type {
  Database,
  DatabaseConfig,
  DatabaseOptions,
  FrontendDatabaseOptions,
  LoadOptions,
  LoadProgress,
  Migration,
  QueryFilter,
  QueryOrderBy,
} from "./types.js";
