/**
 * Calls every listener with `value`; what one throws goes to `report` (the store's `onError`)
 * and the others still run: a write never fails because of a reader.
 */
export function callEach<V>(
  listeners: Iterable<(value: V) => void>,
  value: V,
  report: (error: unknown) => void,
): void {
  for (const listener of listeners) {
    try {
      listener(value);
    } catch (error) {
      report(error);
    }
  }
}
