import type { StandardSchemaV1 } from "@standard-schema/spec";

/** The id of an entity, unique within its type. */
export type EntityId = string;

/** What a live query can hold: anything with a string id (an entity, a joined row). */
export interface Row {
  readonly id: string;
}

/** What every entity has: an id, a type name that picks its collection, and a timestamp. */
export interface Entity {
  id: EntityId;
  type: string;
  updatedAt: number;
}

/**
 * Where a write came from. Persistence and sync use it to stop echoes:
 * `hydrate` writes are never flushed back to the database, and `remote` writes are never sent
 * back to the server.
 */
export type Origin = "local" | "remote" | "hydrate";

/** One change to the store, as the flush engine and the sync client see it. */
export interface StoreChange<E extends Entity = Entity> {
  operation: "upsert" | "delete";
  entityType: string;
  entityId: EntityId;
  /** The stored entity after an upsert; absent for a delete. */
  entity?: E;
  /** The entity before the change, if there was one. */
  previous?: E | undefined;
  origin: Origin;
}

/** A change handed to `store.apply`, before validation. */
export interface ChangeInput {
  operation: "upsert" | "delete";
  entityType: string;
  entityId: EntityId;
  entity?: unknown;
}

/** Options of a single write. */
export interface WriteOptions {
  /**
   * Where the write came from.
   * @default "local"
   */
  origin?: Origin;
}

/** A Standard Schema whose output is an entity. */
export type EntitySchema<E extends Entity = Entity> = StandardSchemaV1<unknown, E>;

/** The entity type a schema produces. */
export type EntityOf<S> =
  S extends StandardSchemaV1<any, infer O> ? (O extends Entity ? O : never) : never;

/**
 * The entity of one type name within an entity union: the members whose `type` accepts `K`.
 * Unlike `Extract<E, { type: K }>`, a member typed `type: string` (a generic entity schema)
 * matches every name instead of none.
 */
export type EntityOfType<E extends Entity, K extends string> = K extends unknown
  ? E extends unknown
    ? K extends E["type"]
      ? E
      : never
    : never
  : never;

/** A key selector: a function of the entity, or a dotted path such as `"data.status"`. */
export type KeySelector<T> = ((entity: T) => unknown) | Path<T>;

/** Sort direction. */
export type Direction = "asc" | "desc";

type Prev = [never, 0, 1, 2, 3];
/** Dotted paths into an object type, up to four levels deep. */
export type Path<T, Depth extends number = 4> = [Depth] extends [never]
  ? never
  : T extends object
    ? {
        [K in keyof T & string]: T[K] extends readonly unknown[]
          ? K
          : T[K] extends object
            ? K | `${K}.${Path<T[K], Prev[Depth]>}`
            : K;
      }[keyof T & string]
    : never;

/**
 * The type of the value at a dotted path of `T` (`PathValue<Comment, "data.lineNumber">` is
 * `number`); `undefined` for a path that is not there.
 */
export type PathValue<T, P extends string> = P extends `${infer Head}.${infer Rest}`
  ? Head extends keyof T
    ? PathValue<NonNullable<T[Head]>, Rest> | (undefined extends T[Head] ? undefined : never)
    : undefined
  : P extends keyof T
    ? T[P]
    : undefined;
