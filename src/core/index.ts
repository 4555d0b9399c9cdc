export { compareKeys } from "./compare.js";
export {
  KalphiteAuthError,
  KalphiteDatabaseLockedError,
  KalphiteError,
  KalphitePersistenceError,
  KalphiteStorageLimitError,
  KalphiteSyncError,
  type KalphiteSyncErrorCode,
  KalphiteUsageError,
  KalphiteValidationError,
  type LocalSyncErrorCode,
  type ServerErrorCode,
} from "./errors.js";
export { type Groups, LiveGroups } from "./live-groups.js";
export { LiveQuery, type LiveQueryChange } from "./live-query.js";
export { KalphiteStore, type StoreApi, type StoreOptions } from "./store.js";
export { TypedCollection } from "./typed-collection.js";
export type {
  ChangeInput,
  Direction,
  Entity,
  EntityId,
  EntityOf,
  EntityOfType,
  EntitySchema,
  KeySelector,
  Origin,
  Path,
  StoreChange,
  WriteOptions,
} from "./types.js";
