export type {
  ConflictRecord,
  LogEntry,
  SnapshotEntity,
  SyncErrorCode,
} from "../protocol/messages.js";
export { PROTOCOL_VERSION } from "../protocol/messages.js";
export type { ConnectionStatus } from "./connection.js";
export { Emitter } from "./emitter.js";
export { checkSendable, depthOf } from "./limits.js";
export { NetworkSyncEngine } from "./network-sync-engine.js";
export type {
  NetworkSyncEngineConfig,
  NetworkSyncEngineOptions,
  SendRate,
  SyncClock,
  SyncStore,
  WebSocketConstructor,
  WebSocketLike,
} from "./options.js";
export {
  type ConfirmedVersion,
  type DeltaEntity,
  databasePersistence,
  type LoadedSyncState,
  type LoadedVersion,
  type MemorySyncState,
  memoryPersistence,
  type OutboxEntry,
  type SyncDelta,
  type SyncPersistence,
  type SyncState,
  type SyncStateSource,
} from "./persistence.js";
export type { RemoteChange, SyncConflict } from "./replica.js";
export type { RefusedChange, SnapshotProgress, SyncEvents, SyncStatus } from "./sync-events.js";
export {
  electTabLeader,
  type TabElectionOptions,
  type TabLeadership,
} from "./tabs/leader-election.js";
export type {
  ForwardedChange,
  ForwardedWrite,
  TabChannel,
  TabMessage,
} from "./tabs/messages.js";
export { indexedDbSnapshotCache, type TabSnapshotCache } from "./tabs/snapshot-cache.js";
export {
  previewTabs,
  serveTabs,
  type TabLeader,
  type TabLeaderOptions,
} from "./tabs/tab-leader.js";
export { mirrorTabs, type TabMirror, type TabMirrorOptions } from "./tabs/tab-mirror.js";
export type {
  ChangeMessage,
  ConflictResolution,
  ConflictStrategy,
  SyncConfig,
  SyncMessage,
  SyncOptions,
  VectorClock,
} from "./types.js";
