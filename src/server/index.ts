export {
  type Authenticator,
  type AuthRequest,
  type Identity,
  insecureDevAuthenticator,
  signToken,
  type TokenClaims,
  tokenAuthenticator,
  verifyToken,
} from "./auth.js";
export { createSyncServer, type SyncServer, type SyncServerOptions } from "./create-sync-server.js";
export { CloseCode, type HubSocket } from "./hub/connection.js";
export {
  type CompactionOptions,
  type HubConnection,
  SyncHub,
  type SyncHubOptions,
} from "./hub/hub.js";
export type { RateLimit } from "./hub/rate-limit.js";
export { memoryStorage } from "./storage/memory.js";
export { type PgliteStorageOptions, pgliteStorage } from "./storage/pglite.js";
export { type PostgresStorageOptions, postgresStorage } from "./storage/postgres.js";
export {
  type ScriptStep,
  type SqlDriver,
  type SqlQuery,
  type SqlRows,
  type SqlStorageOptions,
  sqlStorage,
} from "./storage/sql.js";
export type { CommitOptions, CommitOutcome, Decide, SyncStorage } from "./storage/storage.js";
export { entityValidator } from "./validate.js";
