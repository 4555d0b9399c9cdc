import { computed } from "@preact/signals-core";
import { useMemo, useSyncExternalStore } from "react";

/**
 * Temporary stand-in for `useValue` from kalphite/react while that module lands: re-renders when
 * a signal read inside `fn` changes.
 */
export function useValue<T>(fn: () => T, deps: readonly unknown[] = []): T {
  // biome-ignore lint/correctness/useExhaustiveDependencies: `deps` lists what `fn` closes over.
  const value = useMemo(() => computed(fn), deps);
  const subscribe = useMemo(() => (notify: () => void) => value.subscribe(() => notify()), [value]);
  return useSyncExternalStore(subscribe, () => value.value);
}
