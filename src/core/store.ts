import { batch as signalsBatch, untracked } from "@preact/signals-core";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { AttachedEngines } from "./attached-engines.js";
import { callEach } from "./call-each.js";
import { CollectionState } from "./collection-state.js";
import { KalphiteUsageError, KalphiteValidationError } from "./errors.js";
import { validateEntity } from "./schema.js";
import {
  type CollectionWriter,
  createCollectionView,
  type TypedCollection,
} from "./typed-collection.js";
import type {
  ChangeInput,
  Entity,
  EntityOf,
  EntityOfType,
  Origin,
  StoreChange,
  WriteOptions,
} from "./types.js";

/**
 * Checks a local write before anything changes; throwing refuses it (internal: the sync engine
 * registers one that refuses what could never be sent, see `addWriteCheck`).
 */
export type WriteCheck = (entity: Entity) => void;

const ADD_WRITE_CHECK = Symbol("kalphite.addWriteCheck");

/**
 * Registers a check that every local upsert of `store` runs after validation and before the
 * write; a check that throws refuses the write (nothing changes). Returns its removal. Internal:
 * for the sync engine's limits; a store that is not a KalphiteStore is left alone.
 */
export function addWriteCheck(store: unknown, check: WriteCheck): () => void {
  const add = (store as { [ADD_WRITE_CHECK]?: (check: WriteCheck) => () => void } | null)?.[
    ADD_WRITE_CHECK
  ];
  return typeof add === "function" ? add(check) : () => {};
}

/** Options of `KalphiteStore`. */
export interface StoreOptions {
  /**
   * Receives errors the store catches so that one failure cannot break a write: a throwing
   * listener, live query predicate or key.
   * @default console.error
   */
  onError?: (error: unknown) => void;
}

/** The methods every store has, beside its collections. */
export interface StoreApi<E extends Entity> {
  /** The schema every write is validated with. */
  readonly schema: StandardSchemaV1<unknown, E>;
  /**
   * Runs `fn` with every write in it as one update: effects and subscribers run once, at the end.
   * @example store.batch(() => { store.comment.upsert("a", a); store.comment.delete("b"); })
   */
  batch<R>(fn: () => R): R;
  /**
   * Calls `listener` after every write, or once per `batch`, with the changes made. A write made
   * by a subscriber reaches the others after the changes being delivered.
   * @example const stop = store.subscribe(() => rerender());
   */
  subscribe(listener: (changes: readonly StoreChange<E>[]) => void): () => void;
  /**
   * The change stream: calls `listener` synchronously for every change, with its origin. The
   * flush engine and the sync client are built on it. A write made by a listener reaches every
   * listener after the change being delivered, so each sees the changes in the order they took
   * effect.
   * @example store.onChange((change) => { if (change.origin === "local") queue(change); });
   */
  onChange(listener: (change: StoreChange<E>) => void): () => void;
  /**
   * Applies changes from elsewhere (the database, the server) with the given origin, validated
   * and all-or-nothing, as one batch. Returns the changes that took effect.
   * @example store.apply([{ operation: "delete", entityType: "comment", entityId: "c1" }], "remote");
   */
  apply(changes: readonly ChangeInput[], origin: Origin): StoreChange<E>[];
  /** The collection of a type by name (the same object as `store[name]`). */
  collection<K extends E["type"]>(entityType: K): TypedCollection<EntityOfType<E, K>>;
  /** The names of the types that have been written or read. */
  entityTypes(): string[];
  /** Every entity of every type. */
  entities(): E[];
}

/**
 * Type names that `store.<name>` does not reach (the store's own members, names tools probe, and
 * names starting with `_`, `$` or `@`): their collection is `store.collection(name)`.
 */
type NotCollectionName =
  | keyof StoreApi<any>
  | "upsert"
  | "upsertMany"
  | "delete"
  | "deleteMany"
  | "then"
  | "catch"
  | "finally"
  | "toJSON"
  | "valueOf"
  | "toString"
  | "toLocaleString"
  | "constructor"
  | "inspect"
  | "nodeType"
  | "tagName"
  | "asymmetricMatch"
  | "hasOwnProperty"
  | "isPrototypeOf"
  | "propertyIsEnumerable"
  | `${"_" | "$" | "@"}${string}`;

/**
 * A store: its methods plus one typed collection per entity type of the schema, as
 * `store.<type>` (or `store.collection(type)`, the only way to a name in `NotCollectionName`).
 */
export type KalphiteStore<E extends Entity = Entity> = StoreApi<E> & {
  readonly [K in E["type"] as K extends NotCollectionName ? never : K]: TypedCollection<
    EntityOfType<E, K>
  >;
};

/** Property names that tools probe on objects; they are never collection names. */
const NOT_COLLECTIONS = new Set([
  "then",
  "catch",
  "finally",
  "toJSON",
  "valueOf",
  "toString",
  "toLocaleString",
  "constructor",
  "inspect",
  "nodeType",
  "tagName",
  "asymmetricMatch",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
]);

class Store<E extends Entity> implements StoreApi<E>, CollectionWriter {
  readonly schema: StandardSchemaV1<unknown, E>;
  readonly #states = new Map<string, CollectionState<E>>();
  readonly #views = new Map<string, TypedCollection<any>>();
  readonly #subscribers = new Set<(changes: readonly StoreChange<E>[]) => void>();
  readonly #changeListeners = new Set<(change: StoreChange<E>) => void>();
  readonly #onError: (error: unknown) => void;
  readonly #walks = AttachedEngines.walks();
  #batchDepth = 0;
  #batched: StoreChange<E>[] = [];
  /**
   * The changes to deliver: one made by a change listener while the listeners run (or by a live
   * query's listener during a write) waits until the one being delivered has reached every
   * listener, and changes made while the subscribers run reach them after. Otherwise a later
   * listener (the flush engine, sync) would see the newer change first and keep the older.
   */
  readonly #queuedChanges: StoreChange<E>[] = [];
  #emitting = false;
  #notifying = false;
  readonly #writeChecks = new Set<WriteCheck>();
  /** The entity `upsert` hands to `#setPending` inside a batch (no closure per write). */
  #pendingEntity: E | undefined;
  #pendingOrigin: Origin = "local";

  constructor(schema: StandardSchemaV1<unknown, E>, options: StoreOptions) {
    if (
      !schema ||
      (typeof schema !== "object" && typeof schema !== "function") ||
      typeof (schema as Partial<StandardSchemaV1>)["~standard"]?.validate !== "function"
    ) {
      throw new KalphiteUsageError(
        "KalphiteStore(schema) needs a Standard Schema (arktype, zod, valibot, ...).",
      );
    }
    this.schema = schema;
    this.#onError = options.onError ?? ((error) => console.error(error));
  }

  // The public methods are arrow properties: the store is used through a Proxy, so `this` must
  // not depend on the receiver.

  [ADD_WRITE_CHECK] = (check: WriteCheck): (() => void) => {
    this.#writeChecks.add(check);
    return () => this.#writeChecks.delete(check);
  };

  /** Runs the write checks on local upserts (see `addWriteCheck`). */
  #checkWrites(entities: readonly Entity[], origin: Origin): void {
    if (origin !== "local" || this.#writeChecks.size === 0) return;
    for (const entity of entities) for (const check of this.#writeChecks) check(entity);
  }

  batch = <R>(fn: () => R): R => {
    this.#batchDepth++;
    try {
      return signalsBatch(fn);
    } finally {
      if (--this.#batchDepth === 0) {
        // Changes still queued were made during a write that emitted none (see `#emit`).
        if (this.#queuedChanges.length > 0 && !this.#emitting) untracked(this.#deliver);
        if (this.#batched.length > 0 && !this.#notifying) untracked(this.#notify);
      }
    }
  };

  subscribe = (listener: (changes: readonly StoreChange<E>[]) => void): (() => void) => {
    this.#subscribers.add(listener);
    return () => this.#subscribers.delete(listener);
  };

  onChange = (listener: (change: StoreChange<E>) => void): (() => void) => {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  };

  collection = (entityType: string): TypedCollection<any> => {
    let view = this.#views.get(entityType);
    if (view === undefined) {
      view = createCollectionView(this.#state(entityType), this);
      this.#views.set(entityType, view);
    }
    return view;
  };

  entityTypes = (): string[] => [...this.#states.keys()];

  entities = (): E[] => {
    const all: E[] = [];
    for (const state of this.#states.values())
      for (const entity of state.values.values()) all.push(entity);
    return all;
  };

  apply = (changes: readonly ChangeInput[], origin: Origin): StoreChange<E>[] => {
    checkOrigin(origin);
    if (!Array.isArray(changes)) {
      throw new KalphiteUsageError("store.apply(changes, origin) needs an array of changes.");
    }
    const validated = changes.map((change, index) => {
      checkChange(change, index);
      if (change.operation === "delete") return change;
      if (change.operation !== "upsert") {
        throw new KalphiteValidationError(
          `Unknown operation "${String(change.operation)}": expected "upsert" or "delete".`,
          { entityType: change.entityType, entityId: change.entityId },
        );
      }
      const entity = validateEntity(this.schema, change.entity, change.entityType, change.entityId);
      // Already validated (a database read, a server's change): the change itself, no copy.
      return entity === change.entity ? change : { ...change, entity };
    });
    if (this.#writeChecks.size > 0) {
      this.#checkWrites(
        validated.flatMap((change) => (change.entity ? [change.entity as Entity] : [])),
        origin,
      );
    }
    const applied: StoreChange<E>[] = [];
    this.batch(() => {
      for (const change of validated) {
        const result =
          change.operation === "upsert"
            ? this.#set(change.entity as E, origin, true)
            : this.#remove(change.entityType, change.entityId, origin);
        if (result) applied.push(result);
      }
    });
    return applied;
  };

  upsert(entityType: string, id: string, value: unknown, options?: WriteOptions): E {
    if (typeof id !== "string" || id === "") {
      throw new KalphiteValidationError(`upsert(id, entity) needs a non-empty string id.`, {
        entityType,
      });
    }
    const entity = validateEntity(this.schema, value, entityType, id);
    const origin = originOf(options);
    if (this.#writeChecks.size > 0) this.#checkWrites([entity], origin);
    this.#pendingEntity = entity;
    this.#pendingOrigin = origin;
    this.batch(this.#setPending);
    return entity;
  }

  /** The write of `upsert`, as one stable function: a closure per write would cost an allocation. */
  readonly #setPending = (): void => {
    const entity = this.#pendingEntity!;
    this.#pendingEntity = undefined;
    this.#set(entity, this.#pendingOrigin);
  };

  upsertMany(entityType: string, values: readonly unknown[], options?: WriteOptions): E[] {
    if (!Array.isArray(values)) {
      throw new KalphiteValidationError("upsertMany(entities) needs an array.", { entityType });
    }
    const schema = this.schema;
    const entities = new Array<E>(values.length);
    for (let i = 0; i < values.length; i++) {
      const value = values[i] as { id?: unknown } | null | undefined;
      const id = value !== null && typeof value === "object" ? value.id : undefined;
      entities[i] = validateEntity(
        schema,
        value,
        entityType,
        typeof id === "string" ? id : undefined,
      );
    }
    const origin = originOf(options);
    this.#checkWrites(entities, origin);
    this.batch(() => {
      // A change listener may read the collection while it runs: then every write must be
      // visible when its change is emitted, so the version changes write by write.
      if (!this.#observed()) this.#state(entityType).setMany(entities);
      else for (const entity of entities) this.#set(entity, origin);
    });
    return entities;
  }

  delete(entityType: string, id: string, options?: WriteOptions): boolean {
    const origin = originOf(options);
    return this.batch(() => this.#remove(entityType, id, origin)) !== undefined;
  }

  deleteMany(entityType: string, ids: readonly string[], options?: WriteOptions): number {
    if (!Array.isArray(ids)) {
      throw new KalphiteValidationError("deleteMany(ids) needs an array of ids.", { entityType });
    }
    const origin = originOf(options);
    let deleted = 0;
    this.batch(() => {
      for (const id of ids) if (this.#remove(entityType, id, origin)) deleted++;
    });
    return deleted;
  }

  #state(entityType: string): CollectionState<E> {
    let state = this.#states.get(entityType);
    if (state === undefined) {
      state = new CollectionState<E>(entityType, this.#onError, this.#walks);
      this.#states.set(entityType, state);
    }
    return state;
  }

  /** Whether anyone sees changes: when nobody does, no change object is built. */
  #observed(): boolean {
    return this.#changeListeners.size > 0 || this.#subscribers.size > 0;
  }

  /** Stores an entity; builds its change only when someone will see it (or `always`). */
  #set(entity: E, origin: Origin, always = false): StoreChange<E> | undefined {
    const observed = always || this.#observed();
    const previous = this.#state(entity.type).set(entity, observed);
    return observed ? this.#emitUpsert(entity, previous, origin) : undefined;
  }

  #emitUpsert(entity: E, previous: E | undefined, origin: Origin): StoreChange<E> {
    const change: StoreChange<E> = {
      operation: "upsert",
      entityType: entity.type,
      entityId: entity.id,
      entity,
      previous,
      origin,
    };
    this.#emit(change);
    return change;
  }

  #remove(entityType: string, id: string, origin: Origin): StoreChange<E> | undefined {
    const state = this.#states.get(entityType);
    const previous = state?.remove(id);
    if (previous === undefined) return undefined;
    const change: StoreChange<E> = {
      operation: "delete",
      entityType,
      entityId: id,
      previous,
      origin,
    };
    this.#emit(change);
    return change;
  }

  #emit(change: StoreChange<E>): void {
    // A write made by a listener, or by a live query's listener while the live queries take in
    // a write (whose change is emitted after that), waits for the change being delivered.
    // Changes already queued here were made during this write's walk: they come after it.
    if (this.#emitting || this.#walks.walking) this.#queuedChanges.push(change);
    else {
      this.#queuedChanges.unshift(change);
      untracked(this.#deliver);
    }
  }

  // Listeners run outside any effect (untracked): what they read must not become a dependency
  // of an effect that writes. Arrow properties: untracked(fn) then costs no closure per write.

  /** Hands the changes to the subscribers; what they write meanwhile reaches them all after. */
  readonly #notify = (): void => {
    this.#notifying = true;
    try {
      while (this.#batched.length > 0) {
        const changes = this.#batched;
        this.#batched = [];
        callEach(this.#subscribers, changes, this.#onError);
      }
    } finally {
      this.#notifying = false;
    }
  };

  /** Delivers the queued changes, in order, each to every listener. */
  readonly #deliver = (): void => {
    const queued = this.#queuedChanges;
    this.#emitting = true;
    try {
      for (let i = 0; i < queued.length; i++) {
        if (this.#subscribers.size > 0) this.#batched.push(queued[i]!);
        callEach(this.#changeListeners, queued[i]!, this.#onError);
      }
    } finally {
      queued.length = 0;
      this.#emitting = false;
    }
  };
}

/**
 * Creates a store for the entities a Standard Schema describes. `store.<type>` is that type's
 * collection; every read and write is synchronous and in memory.
 *
 * @example
 * const Entity = type({ id: "string", type: "'comment'", updatedAt: "number", data: { body: "string" } });
 * const store = KalphiteStore(Entity);
 * store.comment.upsert("c1", { id: "c1", type: "comment", updatedAt: Date.now(), data: { body: "Hi" } });
 */
export function KalphiteStore<S extends StandardSchemaV1<any, Entity>>(
  schema: S,
  options: StoreOptions = {},
): KalphiteStore<EntityOf<S>> {
  const store = new Store<EntityOf<S>>(
    schema as unknown as StandardSchemaV1<unknown, EntityOf<S>>,
    options,
  );
  // Collections reached as `store.<name>`, looked up first: `store.comment.upsert(...)` is the
  // hot path, and a name's status (a store member or a collection) never changes.
  const byName = new Map<string, TypedCollection<any>>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      const known = byName.get(prop as string);
      if (known !== undefined) return known;
      if (
        typeof prop !== "string" ||
        prop in target ||
        NOT_COLLECTIONS.has(prop) ||
        isPrivateName(prop)
      ) {
        return Reflect.get(target, prop, receiver);
      }
      const collection = target.collection(prop);
      byName.set(prop, collection);
      return collection;
    },
    set(_target, prop) {
      throw new KalphiteUsageError(
        `store.${String(prop)} cannot be assigned: write entities with store.${String(prop)}.upsert(id, entity).`,
      );
    },
  }) as unknown as KalphiteStore<EntityOf<S>>;
}

/** A change given to `apply`, checked before anything is applied: the batch is all-or-nothing. */
function checkChange(change: unknown, index: number): asserts change is ChangeInput {
  if (change === null || typeof change !== "object") {
    throw new KalphiteValidationError(
      `store.apply: change ${index} is ${change === null ? "null" : typeof change}, not a change object.`,
    );
  }
  const { entityType, entityId } = change as Partial<ChangeInput>;
  if (typeof entityType !== "string" || entityType === "") {
    throw new KalphiteValidationError(
      `store.apply: change ${index} needs a non-empty string entityType.`,
      { entityId: typeof entityId === "string" ? entityId : undefined },
    );
  }
  if (typeof entityId !== "string" || entityId === "") {
    throw new KalphiteValidationError(
      `store.apply: change ${index} needs a non-empty string entityId.`,
      { entityType },
    );
  }
}

/** The origin of a write, checked: a typo would silently bypass the echo rules of sync. */
function originOf(options: WriteOptions | undefined): Origin {
  const origin = options?.origin;
  if (origin === undefined) return "local";
  checkOrigin(origin);
  return origin;
}

function checkOrigin(origin: unknown): asserts origin is Origin {
  if (origin !== "local" && origin !== "remote" && origin !== "hydrate") {
    throw new KalphiteUsageError(
      `Unknown origin ${JSON.stringify(origin)}: expected "local", "remote" or "hydrate".`,
    );
  }
}

function isPrivateName(prop: string): boolean {
  const first = prop.charCodeAt(0);
  return first === 95 /* _ */ || first === 36 /* $ */ || first === 64 /* @ */;
}
