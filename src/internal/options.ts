// Checks of option values shared by the layers: each throws a KalphiteUsageError that names the
// option, what it must be and what it got.
import { KalphiteUsageError } from "../core/index.js";

/**
 * An optional object option (`clock`, `persistence`, ...) must have these methods.
 *
 * @internal
 * @example needsMethods("clock", options.clock, ["now", "setTimeout", "clearTimeout", "random"]);
 */
export function needsMethods(name: string, value: unknown, methods: readonly string[]): void {
  if (value === undefined) return;
  const missing =
    value === null || typeof value !== "object"
      ? methods
      : methods.filter((m) => typeof (value as Record<string, unknown>)[m] !== "function");
  if (missing.length > 0) {
    throw new KalphiteUsageError(
      `${name} must be an object with ${methods.join(", ")} methods; missing ${missing.join(", ")}.`,
    );
  }
}

/**
 * A number option that must be ≥ 0; `fallback` when it is left out.
 *
 * @internal
 * @example const debounceMs = nonNegative("debounceMs", options.debounceMs, 100);
 */
export function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new KalphiteUsageError(`${name} must be a number ≥ 0, got ${String(value)}.`);
  }
  return value;
}
