export type {
  AggregateHelpers,
  AggregateKind,
  AggregateResult,
  AggregateSpec,
  Aggregator,
} from "./aggregators.js";
export { compareKeys } from "./compare.js";
export {
  KalphiteAuthError,
  KalphiteDatabaseLockedError,
  KalphiteError,
  KalphiteLimitError,
  KalphitePersistenceError,
  KalphiteStorageLimitError,
  KalphiteSyncError,
  type KalphiteSyncErrorCode,
  KalphiteUsageError,
  KalphiteValidationError,
  type LocalSyncErrorCode,
  type ServerErrorCode,
} from "./errors.js";
export { type AggregateGroups, LiveAggregates } from "./live-aggregate.js";
export { type Groups, LiveGroups } from "./live-groups.js";
export type { JoinKind, JoinOptions, JoinRow } from "./live-join.js";
export { LiveQuery, type LiveQueryChange } from "./live-query.js";
export { LiveValue } from "./live-value.js";
export { LiveWindow } from "./live-window.js";
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
  PathValue,
  Row,
  StoreChange,
  WriteOptions,
} from "./types.js";
