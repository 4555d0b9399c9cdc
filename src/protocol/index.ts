// The wire contract between a NetworkSyncEngine and the sync server: message types, parsing and
// vector clocks. For custom transports and servers; apps use `kalphite/sync` and `kalphite/server`.
export type {
  AckMessage,
  CatchUpMessage,
  ClientMessage,
  ConflictMessage,
  ConflictRecord,
  ErrorMessage,
  FetchMessage,
  HeartbeatMessage,
  HelloMessage,
  LogEntry,
  ProtocolMessage,
  ServerLimits,
  ServerMessage,
  SnapshotEntity,
  SnapshotPage,
  SyncErrorCode,
  WelcomeMessage,
} from "./messages.js";
export {
  CONFLICT_STRATEGIES,
  DEFAULT_LIMITS,
  newMessageId,
  PROTOCOL_VERSION,
  parseClientMessage,
  parseServerMessage,
} from "./messages.js";
export type { ChangeMessage, ConflictStrategy, SyncMessage, VectorClock } from "./types.js";
export { dominates, increment, isConcurrent, mergeVectors } from "./vector-clock.js";
