/**
 * One string per entity across every type, for Maps and Sets that hold entities of several
 * types (ids are unique within a type only).
 *
 * A schema may allow any string as a type, so no separator character is safe on its own: with
 * `type + "\u0000" + id`, type "a\u0000b" with id "c" and type "a" with id "b\u0000c" would
 * share a key. The type's length in front makes the key unambiguous for any two strings.
 *
 * @example entityKey("comment", "c1") // "7:comment:c1"
 */
export function entityKey(entityType: string, entityId: string): string {
  return `${entityType.length}:${entityType}:${entityId}`;
}
