// How the server turns one incoming change into the next version of an entity. Pure functions,
// shared by the server (which decides) and tests (which check the rules).
import type { Entity } from "../core/index.js";
import { copyOwnField } from "../internal/own-field.js";
import type { WrittenChangeOf } from "../internal/sync-delta.js";
import { type ConflictRecord, isRecord } from "../protocol/messages.js";
import type { ConflictStrategy, VectorClock } from "../protocol/types.js";
import { dominates, entryOf, mergeVectors, setEntry } from "../protocol/vector-clock.js";

/** The server's current version of an entity (entity null = deleted). */
export interface CurrentVersion {
  entity: Entity | null;
  vector: VectorClock;
  /** When the current version was written (the writer's clock); a delete's LWW time. */
  timestamp: number;
  userId: string;
  messageId: string;
}

/** A change as the server received it, after authentication. */
export interface IncomingChange extends WrittenChangeOf<VectorClock, ConflictStrategy> {
  /** The authenticated writer. */
  userId: string;
}

/**
 * What to store for an incoming change, or why it is refused. `time` is the time the change is
 * ordered at from now on (its `updatedAt`, or a delete's timestamp, bounded by the server's
 * clock): storages record it as the entry's `timestamp`.
 */
export type Decision =
  | {
      accept: true;
      entity: Entity | null;
      vector: VectorClock;
      time: number;
      conflict?: ConflictRecord;
    }
  | { accept: false; code: "forged-vector" | "invalid-entity"; message: string };

/** How the server bounds the clocks it orders by. */
export interface DecideOptions {
  /**
   * The latest time a change may be ordered at: the server's clock plus the allowed skew. A
   * change claiming a later `updatedAt` is ordered at this time instead (its entity is kept as
   * sent), so a client clock set ahead wins nothing past the moment it wrote.
   * @default Infinity (unbounded; the hub always passes its clock)
   */
  latestTime?: number;
}

/** The time an incoming change is ordered at: its `updatedAt` (a delete's timestamp), bounded. */
export function orderTime(incoming: IncomingChange, latestTime = Number.POSITIVE_INFINITY): number {
  const claimed = incoming.entity ? incoming.entity.updatedAt : incoming.timestamp;
  return Math.min(claimed, latestTime);
}

/**
 * The time a stored version is ordered at: the time it was stored with (bounded when it was
 * decided), never later than its entity's own `updatedAt`.
 */
function currentTime(current: CurrentVersion): number {
  return current.entity ? Math.min(current.entity.updatedAt, current.timestamp) : current.timestamp;
}

/**
 * Compares two versions in last-write-wins order: by `updatedAt` (a delete by its timestamp),
 * ties broken by user id and then message id, so every replica picks the same winner.
 * Returns > 0 when `a` wins.
 *
 * @example compareLastWrite({ time: 2, userId: "ann", messageId: "m1" }, { time: 2, userId: "bob", messageId: "m0" }) // < 0
 */
export function compareLastWrite(
  a: { time: number; userId: string; messageId: string },
  b: { time: number; userId: string; messageId: string },
): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  if (a.userId !== b.userId) return a.userId < b.userId ? -1 : 1;
  if (a.messageId !== b.messageId) return a.messageId < b.messageId ? -1 : 1;
  return 0;
}

function lastWriteWins(
  current: CurrentVersion,
  incoming: IncomingChange,
  incomingTime: number,
): Entity | null {
  const incomingWins =
    compareLastWrite(
      { time: incomingTime, userId: incoming.userId, messageId: incoming.messageId },
      { time: currentTime(current), userId: current.userId, messageId: current.messageId },
    ) > 0;
  return incomingWins ? (incoming.entity ?? null) : current.entity;
}

/**
 * Field-level merge of `data` for a concurrent edit: the fields the incoming change edited are
 * taken from it, every other field keeps the current value. Deletes are ordered by arrival: a
 * delete removes the entity, an upsert on a deleted entity restores it. The top-level fields
 * (and a `data` that is not a record) come from the later version, compared by `times`: the
 * times the server orders both at (bounded by its clock), so a client clock set ahead wins
 * nothing past the moment it wrote. The merge's `updatedAt` is the later of those times.
 *
 * @default times `{ current: current.updatedAt, incoming: incoming.updatedAt }` (unbounded)
 * @example mergeFields(current, incoming, ["status"], { current: 1_000, incoming: 2_000 }) // current's body, incoming's status
 */
export function mergeFields(
  current: Entity | null,
  incoming: Entity | null,
  changedFields?: readonly string[],
  times?: { current: number; incoming: number },
): Entity | null {
  if (incoming === null || current === null) return incoming;
  const currentAt = times?.current ?? current.updatedAt;
  const incomingAt = times?.incoming ?? incoming.updatedAt;
  const a = (current as { data?: unknown }).data;
  const b = (incoming as { data?: unknown }).data;
  if (!isRecord(a) || !isRecord(b)) return incomingAt >= currentAt ? incoming : current;
  const data: Record<string, unknown> = { ...a };
  for (const field of changedFields ?? Object.keys(b)) {
    copyOwnField(data, b, field);
  }
  const top = incomingAt >= currentAt ? incoming : current;
  return { ...top, data, updatedAt: Math.max(currentAt, incomingAt) } as Entity;
}

/**
 * Decides what an incoming change does to the current version of its entity.
 *
 * - Refuses a vector that claims another user's edits the server has not seen (forgery).
 * - If the writer had seen the current version (its vector dominates), the change applies as is.
 * - Otherwise the edit was concurrent and `incoming.strategy` resolves it: last-write-wins,
 *   a field-level merge, or (manual) the current version stays and the writer's client resolves.
 * The new version's vector is the merge of both, plus one for the writer, so it dominates both.
 * `validate` checks a merged entity; a merge the schema rejects falls back to last-write-wins.
 * Last-write-wins and the merge order by `updatedAt` bounded by `options.latestTime` (see
 * `DecideOptions`).
 *
 * @example const decision = decideChange(current, incoming, (e) => e, { latestTime: Date.now() });
 */
export function decideChange(
  current: CurrentVersion | undefined,
  incoming: IncomingChange,
  validate: (entity: Entity) => Entity,
  options: DecideOptions = {},
): Decision {
  const time = orderTime(incoming, options.latestTime);
  const currentVector = current?.vector ?? {};
  for (const user in incoming.vector) {
    if (user === incoming.userId) continue;
    if (entryOf(incoming.vector, user) > entryOf(currentVector, user)) {
      return {
        accept: false,
        code: "forged-vector",
        message: `The change's vector claims ${incoming.vector[user]} edits by "${user}" to ${incoming.entityType} "${incoming.entityId}", but the server has ${entryOf(currentVector, user)}. Send the vector of the version you edited, as the server sent it${current === undefined ? " (if you did, the entity was deleted and its tombstone forgotten since: the server's compaction keeps tombstones for tombstoneTtl)" : ""}.`,
      };
    }
  }
  const vector = mergeVectors(currentVector, incoming.vector);
  const seen = entryOf(incoming.vector, incoming.userId);
  setEntry(vector, incoming.userId, Math.max(entryOf(currentVector, incoming.userId), seen) + 1);
  const attempted = incoming.entity ?? null;
  if (current === undefined && seen > 0) {
    // The writer edited a version the server no longer has (deleted, and the tombstone
    // forgotten after tombstoneTtl): stored, but as a conflict, so the writer is told.
    return {
      accept: true,
      entity: attempted,
      vector,
      time,
      conflict: { strategy: incoming.strategy, attempted, current: null },
    };
  }
  if (current === undefined || dominates(incoming.vector, currentVector)) {
    return { accept: true, entity: attempted, vector, time };
  }
  let entity: Entity | null;
  switch (incoming.strategy) {
    case "operational-transform": {
      entity = mergeFields(current.entity, attempted, incoming.changedFields, {
        current: currentTime(current),
        incoming: time,
      });
      if (entity !== null && entity !== attempted && entity !== current.entity) {
        try {
          entity = validate(entity);
        } catch {
          entity = lastWriteWins(current, incoming, time);
        }
      }
      break;
    }
    case "manual":
      entity = current.entity;
      break;
    default:
      entity = lastWriteWins(current, incoming, time);
  }
  const conflict: ConflictRecord = {
    strategy: incoming.strategy,
    attempted,
    current: current.entity,
  };
  // The current version stayed: keep its vector, so edits already made on it still apply
  // cleanly (bumping it would make every pending resolution concurrent again: a livelock).
  if (entity === current.entity)
    return {
      accept: true,
      entity,
      vector: { ...currentVector },
      time: Math.max(time, currentTime(current)),
      conflict,
    };
  return { accept: true, entity, vector, time, conflict };
}
