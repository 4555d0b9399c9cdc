import type { ReadonlySignal } from "@preact/signals-core";
import type { Row } from "./types.js";

// The contract between a live query and what it reads: a collection (CollectionState) or a join
// (JoinSource) is a source; a live query, a grouping or an aggregation is an engine it feeds.

/**
 * One change to a live query's full result (before `limit`), for subscribers that want a diff
 * rather than the new array. `oldIndex`/`newIndex` are positions in the full sorted result, -1 when
 * the entity was not / is no longer in it.
 */
export interface LiveQueryChange<T> {
  entity: T | undefined;
  previous: T | undefined;
  oldIndex: number;
  newIndex: number;
}

/** What a live query reads from its collection. */
export interface LiveSource<T extends Row> {
  readonly entityType: string;
  readonly values: ReadonlyMap<string, T>;
  readonly version: ReadonlySignal<number>;
  attach(query: LiveQueryEngine<T>): void;
  detach(query: LiveQueryEngine<T>): void;
  reportError(error: unknown): void;
}

/** What a collection calls on every write; implemented by LiveQuery. */
export interface LiveQueryEngine<T> {
  /** @internal */
  _apply(previous: T | undefined, next: T | undefined): void;
  /** @internal The source's write count when it attached this engine (AttachedEngines). */
  _attachedAt?: number;
}
