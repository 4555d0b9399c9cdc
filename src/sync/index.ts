export { compareLastWrite, decideChange, mergeFields } from "./conflict.js";
export { Emitter } from "./emitter.js";
export {
  type ConnectionStatus,
  NetworkSyncEngine,
  type NetworkSyncEngineConfig,
  type RemoteChange,
  type SendRate,
  type SyncClock,
  type SyncConflict,
  type SyncEvents,
  type SyncStore,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./network-sync-engine.js";
export {
  type ConfirmedVersion,
  databasePersistence,
  type MetaStore,
  memoryPersistence,
  type OutboxEntry,
  type SyncPersistence,
  type SyncState,
} from "./persistence.js";
export type {
  ClientMessage,
  ConflictRecord,
  LogEntry,
  ProtocolMessage,
  ServerMessage,
  SnapshotEntity,
  SyncErrorCode,
} from "./protocol.js";
export {
  newMessageId,
  PROTOCOL_VERSION,
  parseClientMessage,
  parseServerMessage,
} from "./protocol.js";
export type {
  ChangeMessage,
  ConflictResolution,
  ConflictStrategy,
  SyncConfig,
  SyncMessage,
  VectorClock,
} from "./types.js";
export { dominates, increment, isConcurrent, mergeVectors } from "./vector-clock.js";
