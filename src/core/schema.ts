import type { StandardSchemaV1 } from "@standard-schema/spec";
import { formatIssues, KalphiteValidationError } from "./errors.js";
import type { Entity } from "./types.js";

/**
 * The schema whose validation produced an entity: frozen, deep copies that cannot change, so they
 * stay valid. Validation happens once, where data enters (a user's write, a database read, a
 * server's change); every later hop (the store applying it, the flush target, the database, the
 * sync engine) is handed the same object and skips validating and copying it again.
 *
 * Kept on the entity as a private field, added before it is frozen (a base class whose
 * constructor returns the object it is given lets a subclass add its field to any object):
 * spreads, `Object.assign`, JSON and `structuredClone` leave it behind, so a changed copy is
 * validated again, and no code outside this module can read or forge it. Measured against a
 * non-enumerable symbol property (`Object.defineProperty`, a runtime call per write), stamping
 * and freezing an entity costs about half as much; a WeakSet of every stored entity cost a hash
 * insert per write and an ephemeron table of the whole store for every GC to walk.
 */
const ReturnsItsArgument = class {
  constructor(target: object) {
    // biome-ignore lint/correctness/noConstructorReturn: the point of this class (see above)
    return target;
  }
} as new (
  target: object,
) => object;

class ValidatedBy extends ReturnsItsArgument {
  #schema: object;
  constructor(target: object, schema: object) {
    super(target);
    this.#schema = schema;
  }
  /** The schema that stamped `value`, or undefined. */
  static of(value: object): object | undefined {
    return #schema in value ? (value as ValidatedBy).#schema : undefined;
  }
}

/** Whether `value` is an entity this schema's validation produced (internal). */
export function isValidated(schema: object, value: unknown): value is Entity {
  return value !== null && typeof value === "object" && ValidatedBy.of(value) === schema;
}

/**
 * Each schema's Standard Schema interface, read once: some libraries build it in a getter on every
 * read (arktype builds an object and three closures), a cost each write would pay again.
 */
const standardProps = new WeakMap<object, StandardSchemaV1.Props<unknown, unknown>>();

function standardOf<E>(schema: StandardSchemaV1<unknown, E>): StandardSchemaV1.Props<unknown, E> {
  let props = standardProps.get(schema);
  if (props === undefined) standardProps.set(schema, (props = schema["~standard"]));
  return props as StandardSchemaV1.Props<unknown, E>;
}

/**
 * Validates one entity synchronously and returns the value to store. An entity this schema
 * already validated (see `ValidatedBy`) is returned as it is.
 *
 * `owned` says that nothing else holds `value` (a row just parsed from the database): the result
 * is then frozen in place instead of copied, which reads a large room noticeably faster.
 *
 * Throws `KalphiteValidationError` when the schema is async, fails the value, or the result is not
 * an entity of `expectedType` with id `expectedId`.
 * @internal
 */
export function validateEntity<E extends Entity>(
  schema: StandardSchemaV1<unknown, E>,
  value: unknown,
  expectedType: string,
  expectedId: string | undefined,
  owned = false,
): E {
  if (
    isValidated(schema, value) &&
    value.type === expectedType &&
    (expectedId === undefined || value.id === expectedId)
  ) {
    return value as E;
  }
  const result = standardOf(schema).validate(value);
  if (result instanceof Promise) {
    // Swallow the rejection of a promise nobody will await.
    result.catch(() => {});
    throw new KalphiteValidationError(
      "The schema validated asynchronously. Kalphite writes are synchronous: use a schema without async refinements or transforms.",
      { entityType: expectedType, entityId: expectedId },
    );
  }
  if (result.issues) {
    throw new KalphiteValidationError(
      `Invalid ${expectedType}${expectedId === undefined ? "" : ` "${expectedId}"`}: ${formatIssues(result.issues)}`,
      { issues: result.issues, entityType: expectedType, entityId: expectedId },
    );
  }
  const entity = result.value as E;
  if (entity === null || typeof entity !== "object") {
    throw new KalphiteValidationError(
      `The schema returned ${entity === null ? "null" : typeof entity}, not an entity object.`,
      { entityType: expectedType, entityId: expectedId },
    );
  }
  if (entity.type !== expectedType) {
    throw new KalphiteValidationError(
      `An entity of type "${String(entity.type)}" cannot be written to the "${expectedType}" collection; write it to store.${String(entity.type)} instead.`,
      { entityType: expectedType, entityId: expectedId },
    );
  }
  if (typeof entity.id !== "string" || entity.id === "") {
    throw new KalphiteValidationError(`Entity id must be a non-empty string.`, {
      entityType: expectedType,
      entityId: expectedId,
    });
  }
  if (expectedId !== undefined && entity.id !== expectedId) {
    throw new KalphiteValidationError(
      `Entity id "${entity.id}" does not match the id "${expectedId}" it was written under.`,
      { entityType: expectedType, entityId: expectedId },
    );
  }
  if (typeof entity.updatedAt !== "number" || !Number.isFinite(entity.updatedAt)) {
    throw new KalphiteValidationError(`Entity updatedAt must be a finite number.`, {
      entityType: expectedType,
      entityId: expectedId,
    });
  }
  // The store keeps its own copy, so a caller mutating its object later changes nothing here.
  // Always copy: even a schema that builds a new top-level object may hand back the caller's
  // nested objects (a loose or `any` field, a passthrough), and those are just as shared.
  // The copy is frozen: an entity read from the store and changed in place would bypass
  // validation, live queries, persistence and sync; now it throws instead.
  const stored = copy(entity, true, schema, owned);
  if ((stored as unknown) === UNSTORABLE) {
    throw new KalphiteValidationError(
      `Invalid ${expectedType}${expectedId === undefined ? "" : ` "${expectedId}"`}: ${unstorablePath(entity)} is a string PostgreSQL cannot store (U+0000, or a lone UTF-16 surrogate), so it could never be persisted or synced.`,
      { entityType: expectedType, entityId: expectedId },
    );
  }
  return stored;
}

/** What `copy` returns for an entity holding a string no database or server could store. */
const UNSTORABLE = Symbol("unstorable");

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether PostgreSQL (the database and the sync server) can store a string as JSON: `jsonb`
 * refuses U+0000 and lone surrogates. Checked at write time, so that such a string is a typed
 * error at `upsert` rather than a flush that fails forever. Uses `String.prototype.isWellFormed`
 * (ES2024) where it exists, else the same test as a regex; chosen once, not per string (a
 * write checks every key and string of its entity).
 */
const storable: (text: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === "function"
    ? (text) =>
        text.indexOf("\u0000") === -1 &&
        (text as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (text) => text.indexOf("\u0000") === -1 && !LONE_SURROGATE.test(text);

/** The path of the first unstorable string (a value or a key) in `value`, for the error. */
/**
 * Where `value` holds a string (or key) PostgreSQL cannot store as JSON, or undefined.
 *
 * @example unstorablePath({ body: "a\u0000" }, "change") // "change.body"
 * @internal
 */
export function unstorablePath(value: unknown, path = "entity"): string | undefined {
  const at = unstorableAt(value);
  return at === undefined ? undefined : path + at;
}

/** `unstorablePath` after its root; the path is built only on the way back from a failure. */
function unstorableAt(value: unknown): string | undefined {
  if (typeof value === "string") return storable(value) ? undefined : "";
  if (value === null || typeof value !== "object") return undefined;
  for (const key in value) {
    if (!storable(key)) return ` key ${JSON.stringify(key)}`;
    const found = unstorableAt((value as Record<string, unknown>)[key]);
    if (found !== undefined) return `.${key}${found}`;
  }
  return undefined;
}

/**
 * A deep copy of entity data; faster than `structuredClone` for plain objects and arrays.
 * Dates, Maps, Sets and typed arrays are copied with `structuredClone`; instances of other
 * classes are kept by reference, since copying them would silently drop their prototype.
 *
 * @example const copy = cloneJsonLike({ id: "c1", data: { tags: ["a"] } });
 * @internal
 */
export function cloneJsonLike<T>(value: T): T {
  return copy(value, false);
}

/**
 * `cloneJsonLike`, with every plain object and array of the copy frozen when `freeze`, and the
 * top-level object marked as validated by `validatedBy` (see `ValidatedBy`) before it is frozen.
 * `owned` (with `freeze`): nothing else holds `value`, so each plain object and array is checked
 * and frozen where it is instead of copied.
 */
function copy<T>(value: T, freeze: boolean, validatedBy?: object, owned = false): T {
  if (value === null || typeof value !== "object") return value;
  // Frozen already (a schema's own output, say): it cannot be frozen in place, so it is copied.
  if (owned && Object.isFrozen(value)) owned = false;
  if (Array.isArray(value)) {
    const out: unknown[] = owned ? value : [];
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (freeze && typeof item === "string" && !storable(item)) return UNSTORABLE as T;
      const copied = copy(item, freeze, undefined, owned);
      if ((copied as unknown) === UNSTORABLE) return UNSTORABLE as T;
      if (!owned) out.push(copied);
    }
    return (freeze ? Object.freeze(out) : out) as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    return owned || !isStructuredCloneable(value) ? value : structuredClone(value);
  }
  if (!freeze) {
    // A spread copies the own properties on V8's fast path; only nested objects need a second look.
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const key in out) {
      const nested = out[key];
      if (nested !== null && typeof nested === "object") out[key] = copy(nested, false);
    }
    return out as T;
  }
  // Built key by key rather than spread: V8 freezes an object built this way several times faster
  // than a spread one (its shape has a cached frozen transition). Symbol keys are not copied:
  // entities are JSON-like data.
  // Strings and keys are checked here, where every one is visited anyway (see `storable`).
  const out = (owned ? value : {}) as Record<string, unknown>;
  for (const key in value as Record<string, unknown>) {
    let field = (value as Record<string, unknown>)[key];
    if (typeof field === "string") {
      if (!storable(field)) return UNSTORABLE as T;
    } else if (field !== null && typeof field === "object") {
      field = copy(field, true, undefined, owned);
      if (field === UNSTORABLE) return UNSTORABLE as T;
    }
    if (!storable(key)) return UNSTORABLE as T;
    if (owned) continue;
    // An own "__proto__" (from JSON.parse) stays data: assigning it would set the prototype.
    if (key === "__proto__") Object.defineProperty(out, key, { value: field, enumerable: true });
    else out[key] = field;
  }
  if (validatedBy !== undefined) new ValidatedBy(out, validatedBy);
  return Object.freeze(out) as T;
}

function isStructuredCloneable(value: object): boolean {
  return (
    value instanceof Date ||
    value instanceof Map ||
    value instanceof Set ||
    value instanceof RegExp ||
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer
  );
}
