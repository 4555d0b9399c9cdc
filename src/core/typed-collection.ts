import type { ReadonlySignal } from "@preact/signals-core";
import type { CollectionState } from "./collection-state.js";
import { assertDirection, entityComparator, toKeyFunction } from "./compare.js";
import { KalphiteUsageError } from "./errors.js";
import { type LiveQuery, liveQueryOf } from "./live-query.js";
import type { Direction, Entity, KeySelector, WriteOptions } from "./types.js";

/** The writes a collection delegates to its store (validation, batching, the change stream). @internal */
export interface CollectionWriter {
  upsert(entityType: string, id: string, entity: unknown, options?: WriteOptions): Entity;
  upsertMany(entityType: string, entities: readonly unknown[], options?: WriteOptions): Entity[];
  delete(entityType: string, id: string, options?: WriteOptions): boolean;
  deleteMany(entityType: string, ids: readonly string[], options?: WriteOptions): number;
}

interface Internals<T extends Entity> {
  state: CollectionState<T>;
  writer: CollectionWriter;
  snapshotVersion: number;
}

const internals = new WeakMap<object, Internals<any>>();

function internalsOf<T extends Entity>(collection: TypedCollection<T>): Internals<T> {
  const found = internals.get(collection);
  if (!found) throw new KalphiteUsageError("This TypedCollection is not attached to a store.");
  return found;
}

/**
 * The entity stored under `id`, read without creating its signal or subscribing to it: for
 * internal reads of many entities (the sync engine's reload), which `findById` would give a
 * signal each. Any other collection-like object is asked with `findById`. @internal
 */
export function peekEntity(
  collection: { findById(id: string): Entity | undefined },
  id: string,
): Entity | undefined {
  const found = internals.get(collection);
  return found ? found.state.values.get(id) : collection.findById(id);
}

/**
 * `peekEntity` for many ids of one collection: the lookup is found once, not per id (a reload
 * peeks at every entity of the room). @internal
 */
export function entityPeeker(collection: {
  findById(id: string): Entity | undefined;
}): (id: string) => Entity | undefined {
  const values = internals.get(collection)?.state.values;
  return values ? (id) => values.get(id) : (id) => collection.findById(id);
}

/**
 * The entities of one type: a real array (`length`, indexing, `map`, spread, `JSON.stringify`)
 * with the store's writes and queries on it. Get it as `store.comment`.
 *
 * Reading its contents inside an effect, a `computed` or a React hook subscribes to the whole
 * collection; `findById(id)` and `signal(id)` subscribe to one entity only.
 *
 * @example
 * store.comment.upsert("c1", { id: "c1", type: "comment", updatedAt: Date.now(), data });
 * const open = store.comment.where((c) => c.data.status === "open");
 */
export class TypedCollection<T extends Entity = Entity> extends Array<T> {
  static override get [Symbol.species]() {
    return Array;
  }

  /** The type name of the entities in this collection. */
  get entityType(): string {
    return internalsOf(this).state.entityType;
  }

  /**
   * Validates `entity`, stores it under `id` and returns what was stored.
   * Throws `KalphiteValidationError` and changes nothing if it is invalid.
   *
   * @example store.comment.upsert("c1", comment)
   */
  upsert(id: string, entity: T, options?: WriteOptions): T {
    const { state, writer } = internalsOf(this);
    return writer.upsert(state.entityType, id, entity, options) as T;
  }

  /**
   * Validates and stores many entities as one batch: all of them, or none if any is invalid.
   *
   * @example store.comment.upsertMany([c1, c2, c3])
   */
  upsertMany(entities: readonly T[], options?: WriteOptions): T[] {
    const { state, writer } = internalsOf(this);
    return writer.upsertMany(state.entityType, entities, options) as T[];
  }

  /**
   * Deletes an entity; returns true if it existed.
   *
   * @example store.comment.delete("c1")
   */
  delete(id: string, options?: WriteOptions): boolean {
    const { state, writer } = internalsOf(this);
    return writer.delete(state.entityType, id, options);
  }

  /**
   * Deletes many entities as one batch; returns how many existed.
   *
   * @example store.comment.deleteMany(["c1", "c2"])
   */
  deleteMany(ids: readonly string[], options?: WriteOptions): number {
    const { state, writer } = internalsOf(this);
    return writer.deleteMany(state.entityType, ids, options);
  }

  /**
   * The entity with this id. Inside an effect or a hook it subscribes to that entity only.
   *
   * @example const c = store.comment.findById("c1")
   */
  findById(id: string): T | undefined {
    const state = internalsOf(this).state;
    return state.entitySignal(id).value as T | undefined;
  }

  /** Whether an entity with this id exists; subscribes to that entity only. */
  has(id: string): boolean {
    return this.findById(id) !== undefined;
  }

  /**
   * The signal of one entity: `undefined` until it exists and after it is deleted.
   *
   * @example effect(() => console.log(store.comment.signal("c1").value))
   */
  signal(id: string): ReadonlySignal<T | undefined> {
    return internalsOf(this).state.entitySignal(id) as ReadonlySignal<T | undefined>;
  }

  /**
   * The entities that satisfy `predicate`, in collection order.
   *
   * @example store.comment.where((c) => c.data.lineNumber > 100)
   */
  where(predicate: (entity: T) => boolean): T[] {
    if (typeof predicate !== "function") {
      throw new KalphiteUsageError("where(predicate) needs a function.");
    }
    return this.filter((entity) => predicate(entity));
  }

  /**
   * The entities sorted by `key` (a function or a dotted path), then by id.
   *
   * @example store.comment.orderBy((c) => c.updatedAt, "desc")
   */
  orderBy(key: KeySelector<T>, direction: Direction = "asc"): T[] {
    const keyOf = toKeyFunction(key, "orderBy(key)");
    assertDirection(direction);
    return Array.from(this).sort(entityComparator(keyOf, direction));
  }

  /**
   * The entities grouped by `key` (a function or a dotted path), each group in collection order.
   * Like `Object.groupBy`, the result has no prototype, so any key (even `"constructor"` or
   * `"__proto__"`) is just a group.
   *
   * @example store.comment.groupBy((c) => c.data.status).open?.length
   */
  groupBy<K extends PropertyKey>(
    key: ((entity: T) => K) | KeySelector<T>,
  ): Partial<Record<K, T[]>> {
    const keyOf = toKeyFunction(key as KeySelector<T>, "groupBy(key)");
    const groups: Partial<Record<K, T[]>> = Object.create(null);
    for (const entity of this) {
      const group = keyOf(entity) as K;
      const rows = groups[group];
      if (rows) rows.push(entity);
      else groups[group] = [entity];
    }
    return groups;
  }

  /**
   * A live query over this collection, kept up to date incrementally.
   *
   * @example store.comment.live.where((c) => c.data.status === "open").orderBy("updatedAt").limit(50)
   */
  get live(): LiveQuery<T> {
    return liveQueryOf(internalsOf(this).state);
  }
}

/** Methods and getters that never read the collection's contents, so they must not subscribe. */
const UNTRACKED = new Set<PropertyKey>([
  "upsert",
  "upsertMany",
  "delete",
  "deleteMany",
  "findById",
  "has",
  "signal",
  "live",
  "entityType",
  "constructor",
]);

/** Array methods that would change the snapshot in place; the store is changed through its writes. */
const MUTATORS = new Set<PropertyKey>([
  "push",
  "pop",
  "shift",
  "unshift",
  "splice",
  "sort",
  "reverse",
  "fill",
  "copyWithin",
]);

function readOnly(): never {
  throw new KalphiteUsageError(
    "A collection cannot be changed in place: use upsert/delete, or copy it first ([...store.comment].sort()).",
  );
}

/**
 * The collection as users see it: one stable object per type. Reading contents tracks the
 * collection's version signal and refreshes the snapshot array if a write happened since;
 * methods are bound to the raw array so they run at native speed.
 * @internal
 */
export function createCollectionView<T extends Entity>(
  state: CollectionState<T>,
  writer: CollectionWriter,
): TypedCollection<T> {
  const snapshot = new TypedCollection<T>();
  const own: Internals<T> = { state, writer, snapshotVersion: -1 };
  internals.set(snapshot, own);
  const bound = new Map<PropertyKey, unknown>();
  const boundUntracked = new Map<PropertyKey, unknown>();
  // The hot write, straight to the store: no bound method, no lookup of the internals per write.
  const entityType = state.entityType;
  boundUntracked.set("upsert", (id: string, entity: T, options?: WriteOptions) =>
    writer.upsert(entityType, id, entity, options),
  );

  const refresh = (): void => {
    const version = state.version.value; // tracked: reading contents subscribes
    if (own.snapshotVersion === version) return;
    snapshot.length = 0;
    for (const entity of state.values.values()) snapshot.push(entity);
    own.snapshotVersion = version;
  };

  const view = new Proxy(snapshot, {
    get(target, prop) {
      // Writes and single-entity reads are the hot path: their bound method, with no lookups.
      const untracked = boundUntracked.get(prop);
      if (untracked !== undefined) return untracked;
      if (MUTATORS.has(prop)) return readOnly;
      if (!UNTRACKED.has(prop)) refresh();
      const value = Reflect.get(target, prop, target);
      // The class itself is returned as is (binding it would break `constructor === TypedCollection`).
      if (typeof value !== "function" || prop === "constructor") return value;
      let fn = bound.get(prop);
      if (fn === undefined) {
        fn = value.bind(target);
        bound.set(prop, fn);
        if (UNTRACKED.has(prop)) boundUntracked.set(prop, fn);
      }
      return fn;
    },
    has(target, prop) {
      refresh();
      return Reflect.has(target, prop);
    },
    ownKeys(target) {
      refresh();
      return Reflect.ownKeys(target);
    },
    getOwnPropertyDescriptor(target, prop) {
      refresh();
      return Reflect.getOwnPropertyDescriptor(target, prop);
    },
    set: readOnly,
    defineProperty: readOnly,
    // Freezing or sealing would lock the snapshot the store refreshes in place.
    preventExtensions: readOnly,
    deleteProperty: readOnly,
    setPrototypeOf: readOnly,
  });
  internals.set(view, own);
  return view;
}
