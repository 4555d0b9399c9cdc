import { useSyncExternalStore } from "react";
import { type AnyKalphiteStore, useStoreOrContext } from "./context.js";

interface StoreVersion {
  version: number;
  readonly listeners: Set<() => void>;
}

// One counter per store, kept by a single `store.subscribe` listener installed the first time a
// component uses the store this way. It counts every write, subscribed components or not, so a
// write between a render and React's subscribe is never missed (React compares the counter).
const versions = new WeakMap<AnyKalphiteStore, StoreVersion>();

function versionOf(store: AnyKalphiteStore): StoreVersion {
  let found = versions.get(store);
  if (found === undefined) {
    const created: StoreVersion = { version: 0, listeners: new Set() };
    store.subscribe(() => {
      created.version++;
      for (const listener of created.listeners) listener();
    });
    versions.set(store, created);
    found = created;
  }
  return found;
}

// Stable per store so React never resubscribes across renders.
const subscribers = new WeakMap<AnyKalphiteStore, (onChange: () => void) => () => void>();
const snapshots = new WeakMap<AnyKalphiteStore, () => number>();

function subscribeTo(store: AnyKalphiteStore): (onChange: () => void) => () => void {
  let subscribe = subscribers.get(store);
  if (subscribe === undefined) {
    const state = versionOf(store);
    subscribe = (onChange) => {
      // A fresh function per subscription, so the same component subscribing twice
      // (StrictMode) is two entries, each removed once.
      const listener = () => onChange();
      state.listeners.add(listener);
      return () => state.listeners.delete(listener);
    };
    subscribers.set(store, subscribe);
  }
  return subscribe;
}

function snapshotOf(store: AnyKalphiteStore): () => number {
  let getSnapshot = snapshots.get(store);
  if (getSnapshot === undefined) {
    const state = versionOf(store);
    getSnapshot = () => state.version;
    snapshots.set(store, getSnapshot);
  }
  return getSnapshot;
}

/**
 * The store, re-rendering the component after every write to it (once per `store.batch`). This
 * is the simplest binding: read anything from the store during render and it is up to date.
 * Uses the store of the nearest `KalphiteProvider` when none is passed.
 *
 * For components that show a part of the store, `useEntity`, `useLiveQuery` and `useValue`
 * re-render only when that part changes.
 *
 * @example
 * function CommentCount() {
 *   const store = useKalphiteStore<AppStore>();
 *   return <span>{store.comment.length} comments</span>;
 * }
 */
export function useKalphiteStore<S extends AnyKalphiteStore>(store: S): S;
export function useKalphiteStore<S extends AnyKalphiteStore = AnyKalphiteStore>(): S;
export function useKalphiteStore<S extends AnyKalphiteStore>(store?: S): S {
  const resolved = useStoreOrContext(store, "useKalphiteStore()");
  const getSnapshot = snapshotOf(resolved);
  useSyncExternalStore(subscribeTo(resolved), getSnapshot, getSnapshot);
  return resolved;
}
