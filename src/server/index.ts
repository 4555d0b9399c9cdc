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
export { memoryStorage } from "./memory-storage.js";
export { type PgliteStorageOptions, pgliteStorage } from "./pglite-storage.js";
export { type PostgresStorageOptions, postgresStorage } from "./postgres-storage.js";
export type { RateLimit } from "./rate-limit.js";
export {
  type SqlDriver,
  type SqlQuery,
  type SqlStorageOptions,
  sqlStorage,
} from "./sql-storage.js";
export type { CommitOutcome, Decide, SyncStorage } from "./storage.js";
export {
  CloseCode,
  type HubConnection,
  type HubSocket,
  SyncHub,
  type SyncHubOptions,
} from "./sync-hub.js";
export { entityValidator } from "./validate.js";
