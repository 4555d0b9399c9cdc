// The changes of a sync engine's state, as the sync layer records them and the database layer
// writes them: one definition for both (the database may not import the sync layer, so the
// shapes of a version, an outbox entry and the limits are its parameters).

/**
 * One change of the sync state, proportional to the change that caused it. A persistence writes
 * them in order; writing them again after a crash must be harmless (each is a row's new value).
 */
export type SyncDeltaOf<Version, Entry, Limits> =
  /** The confirmed version of an entity; `shown` when the store shows exactly its entity. */
  | { kind: "version"; version: Version; shown: boolean }
  /** No confirmed version any more (a snapshot without the entity). */
  | { kind: "forget-version"; entityType: string; entityId: string }
  /** Every confirmed version goes (a snapshot replaces them all). */
  | { kind: "reset-versions" }
  | { kind: "outbox-add"; entry: Entry }
  | { kind: "outbox-remove"; messageId: string }
  | { kind: "cursor"; cursor: number }
  | { kind: "limits"; limits: Limits };
