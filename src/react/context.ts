import { createContext, createElement, type ReactNode, useContext } from "react";
import { KalphiteUsageError } from "../core/errors.js";
import type { StoreApi } from "../core/store.js";

/** Any Kalphite store; the hooks keep the exact store type their caller passes or names. */
export type AnyKalphiteStore = StoreApi<any>;

const KalphiteContext = createContext<AnyKalphiteStore | null>(null);
KalphiteContext.displayName = "KalphiteContext";

/** Props of `KalphiteProvider`. */
export interface KalphiteProviderProps {
  /** The store the hooks below use when they are not given one. */
  store: AnyKalphiteStore;
  children?: ReactNode;
}

/**
 * Makes a store available to `useKalphiteStore()` and `useKalphiteContext()` in the tree below.
 * The provider itself never re-renders on store changes.
 *
 * @example
 * const store = KalphiteStore(Entity);
 * createRoot(el).render(
 *   <KalphiteProvider store={store}>
 *     <App />
 *   </KalphiteProvider>,
 * );
 */
export function KalphiteProvider({ store, children }: KalphiteProviderProps): ReactNode {
  return createElement(KalphiteContext.Provider, { value: store }, children);
}

/**
 * The store of the nearest `KalphiteProvider`, without subscribing to anything: the component
 * re-renders only through the hooks it calls (`useValue`, `useEntity`, `useLiveQuery`, ...).
 * Throws a `KalphiteUsageError` outside a provider.
 *
 * @example
 * type AppStore = typeof store;
 * function CommentView({ id }: { id: string }) {
 *   const store = useKalphiteContext<AppStore>();
 *   const comment = useEntity(store.comment, id);
 *   return <p>{comment?.data.body}</p>;
 * }
 */
export function useKalphiteContext<S extends AnyKalphiteStore = AnyKalphiteStore>(): S {
  const store = useContext(KalphiteContext);
  if (store === null) throw missingStore("useKalphiteContext()");
  return store as S;
}

/** @internal The explicit store if there is one, else the context's; throws if neither. */
export function useStoreOrContext<S extends AnyKalphiteStore>(
  store: S | undefined,
  hook: string,
): S {
  const contextStore = useContext(KalphiteContext);
  const resolved = store ?? (contextStore as S | null);
  if (resolved === null || resolved === undefined) throw missingStore(hook);
  return resolved;
}

function missingStore(hook: string): KalphiteUsageError {
  return new KalphiteUsageError(
    `${hook} found no store: render it inside <KalphiteProvider store={store}>, or pass the store to the hook.`,
  );
}
