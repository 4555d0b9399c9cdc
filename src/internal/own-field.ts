// Copying one data field from an entity to another as data, whatever its name.

/**
 * Sets `target[field]` to `source[field]` as an own property, or deletes it when `source` has no
 * own `field`: a field named "toString", "constructor" or "__proto__" (a dictionary's key) is
 * data, never Object.prototype's member or the object's prototype.
 */
export function copyOwnField(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  field: string,
): void {
  if (Object.hasOwn(source, field)) {
    Object.defineProperty(target, field, {
      value: source[field],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else delete target[field];
}
