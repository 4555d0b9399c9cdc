import { type ReadonlySignal, type Signal, signal } from "@preact/signals-core";
import { AttachedEngines, type EngineWalks } from "./attached-engines.js";
import type { LiveQueryEngine, LiveSource } from "./live-source.js";
import type { Entity } from "./types.js";

/**
 * The memory of one entity type: the entities by id, a signal per entity that someone reads,
 * a version signal that changes on every write, and the live queries to keep up to date.
 *
 * Entity signals are created on first read, not per write, so a collection nobody watches
 * entity by entity costs one Map entry per entity. There is at most one signal per id at a time,
 * and it is always up to date while anyone can reach it:
 * - held strongly (`#signals`) while its entity exists or something watches it;
 * - held weakly (`#orphans`) otherwise, so reading ids that never exist, or deleted entities
 *   nobody watches any more, leaks nothing, yet a caller still holding the signal (a component
 *   that unmounts and remounts) gets the same signal back and sees later writes.
 */
export class CollectionState<T extends Entity> implements LiveSource<T> {
  readonly entityType: string;
  readonly values = new Map<string, T>();
  readonly version: Signal<number> = signal(0);
  readonly #signals = new Map<string, Signal<T | undefined>>();
  readonly #orphans = new Map<string, WeakRef<Signal<T | undefined>>>();
  readonly #watchedIds = new Set<string>();
  readonly #forgetOrphan = new FinalizationRegistry<string>((id) => {
    if (this.#orphans.get(id)?.deref() === undefined) this.#orphans.delete(id);
  });
  readonly #liveQueries: AttachedEngines<T>;
  // The version's value, counted here: reading `version.value` during a write would make an
  // effect that writes depend on the collection, so it would re-run (or cycle) on later writes.
  #writes = 0;
  readonly #reportError: (error: unknown) => void;

  /** `walks` is the store's: a write made during another's walk is walked after it. */
  constructor(entityType: string, reportError: (error: unknown) => void, walks: EngineWalks) {
    this.entityType = entityType;
    this.#reportError = reportError;
    this.#liveQueries = new AttachedEngines<T>(reportError, walks);
  }

  /** The signal of one entity (undefined while it does not exist). */
  entitySignal(id: string): ReadonlySignal<T | undefined> {
    const existing = this.#signals.get(id) ?? this.#orphanSignal(id);
    if (existing !== undefined) return existing;
    const state = this;
    const entitySignal: Signal<T | undefined> = signal(this.values.get(id), {
      watched() {
        state.#watchedIds.add(id);
        state.#adopt(id, this);
      },
      unwatched() {
        state.#watchedIds.delete(id);
        if (!state.values.has(id)) state.#orphan(id, this);
      },
    });
    if (this.values.has(id)) this.#signals.set(id, entitySignal);
    else this.#orphan(id, entitySignal);
    return entitySignal;
  }

  /**
   * Stores `entity`; returns the entity it replaced, looked up only when the caller or a live
   * query needs it (on a large Map the lookup costs as much as the write). Call inside a signals
   * batch.
   */
  set(entity: T, withPrevious = true): T | undefined {
    let previous: T | undefined;
    if (withPrevious || this.#liveQueries.size > 0) previous = this.#put(entity);
    else this.#store(entity);
    this.version.value = ++this.#writes;
    return previous;
  }

  /**
   * Stores many entities with one version change for all of them: for a load that nobody
   * observes write by write. Call inside a signals batch.
   */
  setMany(entities: readonly T[]): void {
    for (let i = 0; i < entities.length; i++) this.#put(entities[i]!);
    if (entities.length > 0) this.version.value = ++this.#writes;
  }

  #put(entity: T): T | undefined {
    const previous = this.values.get(entity.id);
    this.#store(entity);
    this.#liveQueries.apply(previous, entity);
    return previous;
  }

  /** The entity into the Map, and into its signal if someone holds one. */
  #store(entity: T): void {
    const id = entity.id;
    this.values.set(id, entity);
    let entitySignal = this.#signals.get(id);
    if (entitySignal === undefined && this.#orphans.size > 0) {
      entitySignal = this.#orphanSignal(id);
      if (entitySignal !== undefined) this.#adopt(id, entitySignal);
    }
    if (entitySignal !== undefined) entitySignal.value = entity;
  }

  /** Removes an entity; returns it, or undefined if there was none. Call inside a signals batch. */
  remove(id: string): T | undefined {
    const previous = this.values.get(id);
    if (previous === undefined) return undefined;
    this.values.delete(id);
    const entitySignal = this.#signals.get(id);
    if (entitySignal !== undefined) {
      entitySignal.value = undefined;
      if (!this.#watchedIds.has(id)) this.#orphan(id, entitySignal);
    }
    this.version.value = ++this.#writes;
    this.#liveQueries.apply(previous, undefined);
    return previous;
  }

  #orphanSignal(id: string): Signal<T | undefined> | undefined {
    return this.#orphans.get(id)?.deref();
  }

  /** Holds the signal strongly: its entity exists or someone watches it. */
  #adopt(id: string, entitySignal: Signal<T | undefined>): void {
    if (this.#signals.get(id) === entitySignal) return;
    this.#orphans.delete(id);
    this.#forgetOrphan.unregister(entitySignal);
    this.#signals.set(id, entitySignal);
  }

  /** Holds the signal weakly: nobody watches it and its entity does not exist. */
  #orphan(id: string, entitySignal: Signal<T | undefined>): void {
    this.#signals.delete(id);
    this.#orphans.set(id, new WeakRef(entitySignal));
    this.#forgetOrphan.register(entitySignal, id, entitySignal);
  }

  attach(query: LiveQueryEngine<T>): void {
    this.#liveQueries.add(query);
  }

  detach(query: LiveQueryEngine<T>): void {
    this.#liveQueries.delete(query);
  }

  reportError(error: unknown): void {
    this.#reportError(error);
  }
}
