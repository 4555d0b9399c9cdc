// What the server could never accept, known before sending: a change whose message is larger
// than the server's `maxMessageBytes`, or an entity nested deeper than its `maxDepth`.
import { type Entity, KalphiteLimitError } from "../core/index.js";
import type { ServerLimits } from "../protocol/messages.js";

/**
 * The deepest nesting of objects and arrays in `value` (a flat object is 1), counted as the
 * server counts it; stops looking past `limit`.
 *
 * @example depthOf({ a: { b: [1] } }, 64) // 3
 */
export function depthOf(value: unknown, limit: number): number {
  if (value === null || typeof value !== "object") return 0;
  let deepest = 0;
  for (const child of Object.values(value)) {
    const depth = depthOf(child, limit - 1);
    if (depth > deepest) deepest = depth;
    if (deepest >= limit) break;
  }
  return deepest + 1;
}

/** The number of bytes of `text` in UTF-8. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 2; // a surrogate pair: 4 bytes for 2 code units
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** The bytes of a change message's envelope and payload around its entity (ids, a vector). */
const ENVELOPE_BYTES = 512;

/**
 * Throws a `KalphiteLimitError` when the change of `entity` could never be sent under `limits`
 * (its message over `maxMessageBytes`, its nesting over `maxDepth`). The message is measured
 * with room for its envelope, the base vector and the changed fields.
 *
 * @example checkSendable(entity, DEFAULT_LIMITS, { vectorBytes: 20 });
 */
export function checkSendable(
  entity: Entity,
  limits: ServerLimits,
  context: { vectorBytes: number },
): void {
  const depth = depthOf(entity, limits.maxDepth + 1);
  if (depth > limits.maxDepth) {
    throw new KalphiteLimitError(
      `${entity.type} "${entity.id}" is nested ${depth} levels deep, deeper than the sync server's limit of ${limits.maxDepth} (maxDepth): it could never be sent. Flatten its data; nothing was written.`,
      {
        limit: "maxDepth",
        actual: depth,
        max: limits.maxDepth,
        entityType: entity.type,
        entityId: entity.id,
      },
    );
  }
  const json = JSON.stringify(entity);
  const data = (entity as { data?: unknown }).data;
  const fields = data !== null && typeof data === "object" ? JSON.stringify(Object.keys(data)) : "";
  const room = ENVELOPE_BYTES + context.vectorBytes + 2 * (entity.type.length + entity.id.length);
  // Most entities are far from the limit: only a large one pays for counting UTF-8 bytes.
  if ((json.length + fields.length) * 3 + room <= limits.maxMessageBytes) return;
  const bytes = utf8Length(json) + utf8Length(fields) + room;
  if (bytes > limits.maxMessageBytes) {
    throw new KalphiteLimitError(
      `${entity.type} "${entity.id}" would be a ${bytes.toLocaleString("en")}-byte change message, over the sync server's limit of ${limits.maxMessageBytes.toLocaleString("en")} bytes (maxMessageBytes): it could never be sent. Keep large content out of the entity (store a reference); nothing was written.`,
      {
        limit: "maxMessageBytes",
        actual: bytes,
        max: limits.maxMessageBytes,
        entityType: entity.type,
        entityId: entity.id,
      },
    );
  }
}
