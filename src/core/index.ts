export { compareKeys } from "./compare.js";
export {
  formatIssues,
  KalphiteAuthError,
  KalphiteDatabaseLockedError,
  KalphiteError,
  KalphiteLimitError,
  KalphitePersistenceError,
  KalphiteStorageLimitError,
  KalphiteSyncError,
  KalphiteUsageError,
  KalphiteValidationError,
} from "./errors.js";
export { type Groups, LiveGroups } from "./live-groups.js";
export { LiveQuery, type LiveQueryChange } from "./live-query.js";
export { cloneJsonLike, validateEntity } from "./schema.js";
export { KalphiteStore, type StoreApi, type StoreOptions } from "./store.js";
export { type CollectionWriter, TypedCollection } from "./typed-collection.js";
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
