import type { Entity, EntityId, KalphitePersistenceError, StoreChange } from "../core/index.js";
import type { Clock } from "../internal/clock.js";

/** How a `MemoryFlushEngine` writes: where to, how often, how hard it retries. */
export interface FlushOptions {
  /** Writes a batch of changes; the engine calls it one batch at a time, in order. */
  flushTarget: FlushTarget;
  /**
   * Quiet time after the last write before a flush starts (see also `maxWaitMs`).
   * @default 100
   */
  debounceMs?: number;
  /**
   * Retries after a failed write, with exponential backoff, before the error is reported.
   * The changes stay queued after that: nothing is dropped.
   * @default 3
   */
  maxRetries?: number;
  /**
   * Backoff base in ms: retry `n` (0-based) waits up to `baseRetryDelay * 2^n`.
   * @default 100
   */
  baseRetryDelay?: number;
  /**
   * Changes per call of `flushTarget`; a larger flush is split into ordered batches.
   * @default 100
   */
  maxBatchSize?: number;
  /**
   * `false` makes the engine a dry run: it queues, coalesces and reports (the `flush` event with
   * `persisted: false`) what it would write, and never calls `flushTarget`.
   * @default true
   */
  enablePersistence?: boolean;
}

/** The seed's name for `FlushOptions`. */
export type FlushConfig = FlushOptions;

/** Writes one ordered batch of changes; resolves once they are durable. */
export type FlushTarget = (changes: FlushChange[]) => Promise<void>;

/** One coalesced change to write: the latest state of one entity. */
export interface FlushChange {
  operation: "upsert" | "delete";
  entityId: EntityId;
  entityType: string;
  /** The entity to store; absent for a delete. */
  entity?: Entity;
  /** When the change was queued (`Date.now()`). */
  timestamp: number;
}

/**
 * A snapshot of the engine's queues, from `engine.getState()`.
 * Keys of `pending` name the entity by type and id (ids are unique within a type only), as
 * `${entityType.length}:${entityType}:${entityId}`, e.g. `"7:comment:c1"`.
 */
export interface FlushState {
  /** Changes not yet handed to the target, oldest first. */
  pending: Map<EntityId, FlushChange>;
  /** Changes whose write failed, waiting for a retry, oldest first. */
  retryQueue: FlushChange[];
  isFlushInProgress: boolean;
  /** When the last successful write finished (`Date.now()`), 0 if none yet. */
  lastFlushTime: number;
}

/** What the engine reports after each batch. */
export interface FlushEvent {
  changes: readonly FlushChange[];
  /** `false` when `enablePersistence` is `false`: the changes were only reported. */
  persisted: boolean;
}

/** The events of a `MemoryFlushEngine` and their arguments (`engine.on(event, listener)`). */
export interface FlushEngineEvents {
  /** After each batch written (or reported, in a dry run). */
  flush: [event: FlushEvent];
  /** Automatic flushing gave up after `maxRetries`, or a `flush()`/`destroy()` failed. */
  error: [error: KalphitePersistenceError];
}

/** The part of a store the engine listens to (`store.onChange`). */
export interface ChangeSource {
  onChange(listener: (change: StoreChange) => void): () => void;
}

/** `FlushOptions` plus the engine's own options. */
export interface FlushEngineOptions extends FlushOptions {
  /**
   * Upper bound on the debounce: under a steady stream of writes a flush still starts at most
   * `maxWaitMs` after the first unflushed write.
   * @default debounceMs * 2
   */
  maxWaitMs?: number;
  /**
   * Random share of each backoff delay: retry `n` waits between
   * `(1 - retryJitter) * baseRetryDelay * 2^n` and `baseRetryDelay * 2^n`.
   * @default 0.5
   */
  retryJitter?: number;
  /**
   * A target call that has not settled after this long counts as failed. The engine then calls
   * the target again only once the stuck call settles, so a late write can never land after a
   * newer one.
   * @default 30000
   */
  targetTimeoutMs?: number;
  /**
   * Receives the error when automatic flushing gave up after `maxRetries` (the changes stay
   * queued). Without it and without `on("error")` listeners, errors go to `console.error`.
   */
  onError?: (error: KalphitePersistenceError) => void;
  /** Called after each batch written (or reported, in a dry run). */
  onFlush?: (event: FlushEvent) => void;
  /**
   * Time, timers and the jitter's randomness: the debounce, `maxWaitMs`, retries, the target
   * timeout and change timestamps all read it. Tests pass a clock they drive.
   * @default systemClock (the platform's timers, Date.now, Math.random)
   */
  clock?: Clock;
}
