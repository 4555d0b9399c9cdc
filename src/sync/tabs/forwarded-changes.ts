// How the leader makes a follower's write its own: the follower wrote on the version it showed,
// which may be older than the leader's (another user's edit on its way to the follower). The
// write is moved onto the leader's version field by field, as the follower's store would have
// merged it had the edit arrived first: only what the follower changed is written.
import { entityKey } from "../../core/entity-key.js";
import type { ChangeInput, Entity, StoreApi } from "../../core/index.js";
import { copyOwnField } from "../../internal/own-field.js";
import { deepEqual } from "../deep-equal.js";
import type { ForwardedChange } from "./messages.js";

/**
 * The changes of one forwarded write, one per entity (the first one's base, the last one's
 * result), each moved onto what `store` holds now.
 */
export function changesOnCurrent(
  store: StoreApi<Entity>,
  changes: readonly ForwardedChange[],
): ChangeInput[] {
  const perEntity = new Map<string, ForwardedChange>();
  for (const change of changes) {
    const key = entityKey(change.entityType, change.entityId);
    const first = perEntity.get(key);
    // The entity's base stays the one the follower saw before its first change of the write.
    perEntity.set(key, first ? { ...change, previous: first.previous } : change);
  }
  const result: ChangeInput[] = [];
  for (const { operation, entityType, entityId, entity, previous } of perEntity.values()) {
    if (operation === "delete") {
      result.push({ operation, entityType, entityId });
      continue;
    }
    const current = store.collection(entityType).findById(entityId);
    result.push({ operation, entityType, entityId, entity: onCurrent(current, previous, entity) });
  }
  return result;
}

/**
 * `next`, written on `previous`, moved onto `current`: the fields (and `data` fields) that
 * differ between `previous` and `next` are taken from `next`, the others stay `current`'s.
 * Without a base or a current version, `next` as it is.
 */
function onCurrent(current: unknown, previous: unknown, next: unknown): unknown {
  if (!isRecord(current) || !isRecord(previous) || !isRecord(next)) return next;
  const merged = changedFields(current, previous, next);
  const [base, before, after] = [current.data, previous.data, next.data];
  if (isRecord(base) && isRecord(before) && isRecord(after))
    merged.data = changedFields(base, before, after);
  return merged;
}

/** `current` with every field that differs between `previous` and `next` as `next` has it. */
function changedFields(
  current: Record<string, unknown>,
  previous: Record<string, unknown>,
  next: Record<string, unknown>,
): Record<string, unknown> {
  const merged = { ...current };
  for (const field of new Set([...Object.keys(previous), ...Object.keys(next)])) {
    if (deepEqual(ownField(previous, field), ownField(next, field))) continue;
    copyOwnField(merged, next, field);
  }
  return merged;
}

function ownField(record: Record<string, unknown>, field: string): unknown {
  return Object.hasOwn(record, field) ? record[field] : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
