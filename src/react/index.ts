/**
 * React bindings for Kalphite, on `useSyncExternalStore`: `kalphite/react`.
 *
 * @module
 */
export {
  type AnyKalphiteStore,
  KalphiteProvider,
  type KalphiteProviderProps,
  useKalphiteContext,
} from "./context.js";
export {
  type LiveWindowOptions,
  type LiveWindowState,
  useLiveWindow,
} from "./use-live-window.js";
export { useKalphiteStore } from "./use-store.js";
export {
  useCollection,
  useEntity,
  useLiveGroups,
  useLiveQuery,
  useSignalValue,
  useValue,
} from "./use-value.js";
