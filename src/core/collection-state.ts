import { type ReadonlySignal, type Signal, signal } from "@preact/signals-core";
import type { LiveQueryEngine, LiveSource } from "./live-query.js";
import type { Entity } from "./types.js";

/**
 * The memory of one entity type: the entities by id, a signal per entity that someone reads,
 * a version signal that changes on every write, and the live queries to keep up to date.
 *
 * Entity signals are created on first read, not per write, so a collection nobody watches
 * entity by entity costs one Map entry per entity.
 */
export class CollectionState<T extends Entity> implements LiveSource<T> {
  readonly entityType: string;
  readonly values = new Map<string, T>();
  readonly version: Signal<number> = signal(0);
  readonly #signals = new Map<string, Signal<T | undefined>>();
  readonly #liveQueries = new Set<LiveQueryEngine<T>>();
  readonly #reportError: (error: unknown) => void;

  constructor(entityType: string, reportError: (error: unknown) => void) {
    this.entityType = entityType;
    this.#reportError = reportError;
  }

  /** The signal of one entity (undefined while it does not exist). */
  entitySignal(id: string): ReadonlySignal<T | undefined> {
    let entitySignal = this.#signals.get(id);
    if (entitySignal === undefined) {
      const signals = this.#signals;
      const values = this.values;
      entitySignal = signal(values.get(id), {
        unwatched() {
          // Forget the signal of a deleted entity once nobody watches it.
          if (!values.has(id) && signals.get(id) === this) signals.delete(id);
        },
      });
      signals.set(id, entitySignal);
    }
    return entitySignal;
  }

  /** Stores `entity`; returns the entity it replaced. Call inside a signals batch. */
  set(entity: T): T | undefined {
    const id = entity.id;
    const previous = this.values.get(id);
    this.values.set(id, entity);
    const entitySignal = this.#signals.get(id);
    if (entitySignal !== undefined) entitySignal.value = entity;
    this.version.value++;
    this.#applyToLiveQueries(previous, entity);
    return previous;
  }

  /** Removes an entity; returns it, or undefined if there was none. Call inside a signals batch. */
  remove(id: string): T | undefined {
    const previous = this.values.get(id);
    if (previous === undefined) return undefined;
    this.values.delete(id);
    const entitySignal = this.#signals.get(id);
    if (entitySignal !== undefined) entitySignal.value = undefined;
    this.version.value++;
    this.#applyToLiveQueries(previous, undefined);
    return previous;
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

  #applyToLiveQueries(previous: T | undefined, next: T | undefined): void {
    if (this.#liveQueries.size === 0) return;
    for (const query of this.#liveQueries) {
      try {
        query._apply(previous, next);
      } catch (error) {
        // A throwing predicate or key must not stop the write or the other queries.
        this.#reportError(error);
      }
    }
  }
}
