// The changes of a sync engine's state, as the sync layer records them and the database layer
// writes them: one definition for both (the database may not import the sync layer, so the
// shapes of a version, an outbox entry and the limits are its parameters), and how they fold.
import { entityKey } from "../core/entity-key.js";
import type { Entity } from "../core/index.js";

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

/**
 * Deltas folded to the last value of each row they change: what a persistence writes of them (a
 * database, one statement per table), or, folded into the `whole` state, what it holds (memory).
 */
export interface SyncDeltaFold<Version, Entry, Limits> {
  /** Every confirmed version stored before went first. */
  reset: boolean;
  /** Per entity key, in the order first written: the new version, or the entity forgotten. */
  readonly versions: Map<
    string,
    { version: Version; shown: boolean } | { forgotten: { entityType: string; entityId: string } }
  >;
  /** The entries added, by message id, in the order added. */
  readonly adds: Map<string, Entry>;
  /** The message ids removed from what was stored before (not folded into the whole state). */
  readonly removes: Set<string>;
  cursor: number | undefined;
  limits: Limits | undefined;
}

/** A fold of no delta yet. */
export function emptyFold<Version, Entry, Limits>(): SyncDeltaFold<Version, Entry, Limits> {
  return {
    reset: false,
    versions: new Map(),
    adds: new Map(),
    removes: new Set(),
    cursor: undefined,
    limits: undefined,
  };
}

/**
 * Folds one delta in: the last value of each row wins. With `whole`, the fold is the whole state
 * (nothing stored beside it): a version forgotten or an entry removed is simply gone.
 */
export function foldDelta<
  Version extends { entityType: string; entityId: string },
  Entry extends { messageId: string },
  Limits,
>(
  fold: SyncDeltaFold<Version, Entry, Limits>,
  delta: SyncDeltaOf<Version, Entry, Limits>,
  whole = false,
): void {
  switch (delta.kind) {
    case "version": {
      const v = delta.version;
      fold.versions.set(entityKey(v.entityType, v.entityId), { version: v, shown: delta.shown });
      break;
    }
    case "forget-version": {
      const { entityType, entityId } = delta;
      const key = entityKey(entityType, entityId);
      if (whole) fold.versions.delete(key);
      else fold.versions.set(key, { forgotten: { entityType, entityId } });
      break;
    }
    case "reset-versions":
      fold.reset = true;
      fold.versions.clear();
      break;
    case "outbox-add":
      fold.adds.set(delta.entry.messageId, delta.entry);
      break;
    case "outbox-remove":
      if (!fold.adds.delete(delta.messageId) && !whole) fold.removes.add(delta.messageId);
      break;
    case "cursor":
      fold.cursor = delta.cursor;
      break;
    case "limits":
      fold.limits = delta.limits;
      break;
  }
}

/**
 * One entity change as its writer made it: a client's outbox entry, and what the server receives
 * of it (with the writer). The vector and strategy types are the protocol's.
 */
export interface WrittenChangeOf<Vector, Strategy> {
  messageId: string;
  timestamp: number;
  operation: "upsert" | "delete";
  entityType: string;
  entityId: string;
  entity?: Entity;
  /** The version the change was made on (see ARCHITECTURE.md). */
  vector: Vector;
  strategy: Strategy;
  /** For `operational-transform`: the `data` fields the change edited. @default all fields */
  changedFields?: string[];
}
