// Message ids the writer of a local change chose for it, for the sync engine to send the change
// under. The leader tab gives each change a follower forwarded an id made from the follower's
// write id, the same whichever leader applies it: the server answers a resend of a change it
// stored already with the stored entry, instead of applying it again over newer edits.
import { entityKey } from "../core/entity-key.js";
import type { ChangeInput } from "../core/index.js";

/** Per store, while `applyWithMessageIds` runs: each entity's chosen id, until taken. */
const chosen = new WeakMap<object, Map<string, string>>();

/**
 * `store.apply(changes, "local")`, each change sent to the server (by an engine syncing `store`)
 * under `messageIds[i]`. At most one change per entity: an id is taken by the first store change
 * of its entity, so a write a listener makes meanwhile gets an id of its own.
 */
export function applyWithMessageIds(
  store: { apply(changes: readonly ChangeInput[], origin: "local"): unknown },
  changes: readonly ChangeInput[],
  messageIds: readonly string[],
): void {
  const ids = new Map<string, string>();
  changes.forEach((change, i) => {
    const messageId = messageIds[i];
    if (messageId !== undefined) ids.set(entityKey(change.entityType, change.entityId), messageId);
  });
  const outer = chosen.get(store);
  chosen.set(store, ids);
  try {
    store.apply(changes, "local");
  } finally {
    if (outer) chosen.set(store, outer);
    else chosen.delete(store);
  }
}

/** The message id chosen for the local change of an entity `store` is making now, once. */
export function takeChosenMessageId(
  store: object,
  entityType: string,
  entityId: string,
): string | undefined {
  const ids = chosen.get(store);
  if (ids === undefined) return undefined;
  const key = entityKey(entityType, entityId);
  const messageId = ids.get(key);
  ids.delete(key);
  return messageId;
}
