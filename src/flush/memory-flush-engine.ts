import { entityKey } from "../core/entity-key.js";
import {
  type Entity,
  type EntityId,
  KalphitePersistenceError,
  KalphiteUsageError,
} from "../core/index.js";
import { backoffDelay } from "../internal/backoff.js";
import { type Clock, systemClock } from "../internal/clock.js";
import { Emitter } from "../internal/emitter.js";
import { needsMethods, nonNegative } from "../internal/options.js";
import { reportRejection } from "../internal/report-rejection.js";
import { TargetCaller } from "./target-caller.js";
import type {
  ChangeSource,
  FlushChange,
  FlushEngineEvents,
  FlushEngineOptions,
  FlushState,
} from "./types.js";

/** A queued change and its place in the order of writes. */
interface Queued {
  key: string;
  change: FlushChange;
  seq: number;
}

type Timer = unknown;

/**
 * Writes a store's changes to a `FlushTarget` in the background: debounced, coalesced per entity,
 * in ordered batches, retried with exponential backoff, never dropped.
 *
 * Changes live in three places, each entity in at most one of `pending`/`retry` at a time:
 * `pending` (not yet handed to the target, ordered by last write), `retry` (a failed write
 * waiting for another try, older than everything pending) and `inFlight` (being written now).
 * A newer write to an entity removes its `retry` entry, and a failed batch does not re-queue an
 * entity that has a newer pending change: a retry can never overwrite newer data. Only one target
 * call runs at a time, so writes land in order.
 *
 * @example
 * const engine = new MemoryFlushEngine({ flushTarget: (changes) => db.applyChanges(changes) });
 * const detach = engine.attach(store);
 * store.comment.upsert("c1", comment);
 * await engine.flush(); // c1 is durable now
 * await engine.destroy();
 */
export class MemoryFlushEngine {
  readonly #target: TargetCaller;
  readonly #debounceMs: number;
  readonly #maxWaitMs: number;
  readonly #maxRetries: number;
  readonly #baseRetryDelay: number;
  readonly #maxBatchSize: number;
  readonly #enablePersistence: boolean;
  readonly #jitter: number;
  readonly #clock: Clock;
  readonly #events = new Emitter<FlushEngineEvents>();
  /** Set while error listeners run: one that throws goes to the console, not back to them. */
  #reportingError = false;

  #pending = new Map<string, Queued>();
  #retry = new Map<string, Queued>();
  readonly #inFlight = new Map<string, Queued>();
  #seq = 0;
  #running: Promise<void> | undefined;
  #debounceTimer: Timer | undefined;
  #retryTimer: Timer | undefined;
  /** When the debounce timer should fire; writes move it instead of re-arming the timer. */
  #dueAt = 0;
  #firstPendingAt: number | undefined;
  #dueWhileRunning = false;
  #attempt = 0;
  #paused = false;
  #resumeWaiters: (() => void)[] = [];
  #closing = false;
  #destroying: Promise<void> | undefined;
  #destroyed = false;
  #lastFlushTime = 0;
  readonly #detachers = new Set<() => void>();

  constructor(options: FlushEngineOptions) {
    if (typeof options?.flushTarget !== "function") {
      throw new KalphiteUsageError(
        "MemoryFlushEngine needs a flushTarget: a function (changes) => Promise<void> that writes a batch, e.g. (changes) => db.applyChanges(changes).",
      );
    }
    this.#debounceMs = nonNegative("debounceMs", options.debounceMs, 100);
    this.#maxWaitMs = nonNegative("maxWaitMs", options.maxWaitMs, this.#debounceMs * 2);
    this.#maxRetries = nonNegative("maxRetries", options.maxRetries, 3);
    this.#baseRetryDelay = nonNegative("baseRetryDelay", options.baseRetryDelay, 100);
    this.#maxBatchSize = Math.max(1, nonNegative("maxBatchSize", options.maxBatchSize, 100));
    this.#enablePersistence = options.enablePersistence ?? true;
    this.#jitter = Math.min(1, nonNegative("retryJitter", options.retryJitter, 0.5));
    needsMethods("clock", options.clock, ["now", "setTimeout", "clearTimeout", "random"]);
    this.#clock = options.clock ?? systemClock;
    this.#target = new TargetCaller(
      options.flushTarget,
      nonNegative("targetTimeoutMs", options.targetTimeoutMs, 30_000),
      this.#clock,
    );
    this.#events.onListenerError = (error) => {
      if (this.#reportingError) console.error(error);
      else
        this.#report(
          new KalphitePersistenceError(`A "flush" listener threw: ${String(error)}`, {
            cause: error,
          }),
        );
    };
    if (options.onError) this.#events.on("error", options.onError);
    if (options.onFlush) this.#events.on("flush", options.onFlush);
  }

  /**
   * Listens to a store's change stream: every `local` and `remote` change is queued; `hydrate`
   * changes (loaded from the database) are not. Returns a function that stops listening.
   *
   * @example const detach = engine.attach(store);
   */
  attach(store: ChangeSource): () => void {
    this.#assertOpen("attach");
    const stop = store.onChange((change) => {
      if (change.origin === "hydrate") return;
      if (change.operation === "upsert") {
        if (change.entity)
          this.#enqueue("upsert", change.entityType, change.entityId, change.entity);
      } else {
        this.#enqueue("delete", change.entityType, change.entityId, undefined);
      }
    });
    const detach = () => {
      stop();
      this.#detachers.delete(detach);
    };
    this.#detachers.add(detach);
    return detach;
  }

  /**
   * Queues an upsert of `entity` (its type is `entity.type`), replacing any queued change to it.
   *
   * @example engine.scheduleFlush("c1", comment);
   */
  scheduleFlush(entityId: EntityId, entity: Entity): void {
    this.#assertOpen("scheduleFlush");
    if (!entity || typeof entity.type !== "string") {
      throw new KalphiteUsageError(
        "scheduleFlush(entityId, entity) needs an entity with a string `type`.",
      );
    }
    this.#enqueue("upsert", entity.type, entityId, entity);
  }

  /**
   * Queues a delete, replacing any queued change to the entity (a delete after an upsert is one
   * delete).
   *
   * @example engine.scheduleDelete("c1", "comment");
   */
  scheduleDelete(entityId: EntityId, entityType: string): void {
    this.#assertOpen("scheduleDelete");
    this.#enqueue("delete", entityType, entityId, undefined);
  }

  /**
   * Writes everything queued so far, and resolves once it is durable: the durability point.
   * A failed write is retried with backoff; after `maxRetries` it rejects with a
   * `KalphitePersistenceError`, which is also reported (`onError`/`"error"`), and the changes
   * stay queued. A caller that does not await it gets no unhandled rejection. While paused, it
   * waits for `resumeFlush()`.
   *
   * @example store.comment.upsert("c1", comment); await engine.flush();
   */
  flush(): Promise<void> {
    if (this.#destroyed) {
      // A usage error: the caller's own promise, not a failure of writing to report.
      return reportRejection(
        Promise.reject(
          new KalphiteUsageError("flush() was called after destroy(): create a new engine."),
        ),
        () => {},
      );
    }
    return reportRejection(this.#flushQueued(), (error) => this.#reportFailure(error));
  }

  async #flushQueued(): Promise<void> {
    const through = this.#seq;
    let attempt = 0;
    while (this.#hasQueuedThrough(through)) {
      if (this.#paused) {
        await new Promise<void>((resolve) => this.#resumeWaiters.push(resolve));
        continue;
      }
      if (this.#running) {
        // An automatic flush is writing; let it finish, then write what is left.
        await this.#running.catch(() => {});
        continue;
      }
      this.#clearTimers();
      try {
        await this.#runCycle();
        attempt = 0;
        this.#attempt = 0;
      } catch (error) {
        if (attempt >= this.#maxRetries) throw error;
        const delay = this.#delay(attempt++);
        await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, delay));
      }
    }
  }

  /** Every queued change, one per entity (the newest), oldest first; for debugging and tests. */
  getQueuedChanges(): FlushChange[] {
    const latest = new Map<string, FlushChange>();
    for (const queue of [this.#inFlight, this.#retry, this.#pending]) {
      for (const [key, { change }] of queue) {
        latest.delete(key);
        latest.set(key, change);
      }
    }
    return [...latest.values()];
  }

  /** A snapshot of the queues (see `FlushState`). */
  getState(): FlushState {
    const pending = new Map<string, FlushChange>();
    for (const [key, { change }] of this.#pending) pending.set(key, change);
    return {
      pending,
      retryQueue: [...this.#retry.values()].map((queued) => queued.change),
      isFlushInProgress: this.#running !== undefined,
      lastFlushTime: this.#lastFlushTime,
    };
  }

  /**
   * Stops writing: changes keep being queued, no timer runs and `flush()` waits, until
   * `resumeFlush()`. A batch already being written finishes.
   *
   * @example engine.pauseFlush(); await db.restore(blob); engine.resumeFlush();
   */
  pauseFlush(): void {
    this.#paused = true;
    this.#clearTimers();
  }

  /** Resumes writing after `pauseFlush()`; what was queued meanwhile is flushed after the debounce. */
  resumeFlush(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const waiters = this.#resumeWaiters;
    this.#resumeWaiters = [];
    for (const resolve of waiters) resolve();
    if (this.#retry.size > 0 || this.#pending.size > 0) this.#arm(this.#debounceMs);
  }

  /**
   * Stops listening to every store, writes what is queued (even if paused) and leaves no timer
   * behind. If that final write fails, the error is reported (`onError`/`"error"`), the changes
   * stay in `getQueuedChanges()`, and the returned promise rejects with it: await it to know,
   * or call it without awaiting (the seed's `destroy(): void`), which never leaves an unhandled
   * rejection. Calling it again returns the same promise. Any later call except
   * `getQueuedChanges`/`getState` throws.
   *
   * @example await engine.destroy();
   */
  destroy(): Promise<void> {
    if (this.#destroying) return this.#destroying;
    this.#closing = true;
    for (const detach of [...this.#detachers]) detach();
    this.resumeFlush();
    const done = this.#flushQueued().finally(() => {
      this.#destroyed = true;
      this.#clearTimers();
    });
    this.#destroying = reportRejection(done, (error) => this.#reportFailure(error));
    return this.#destroying;
  }

  /**
   * Adds a listener: `"flush"` after each batch written, `"error"` when automatic flushing gave
   * up after `maxRetries`. Returns a function that removes it.
   *
   * @example engine.on("error", (error) => showOfflineBanner(error.message));
   */
  on<K extends keyof FlushEngineEvents>(
    event: K,
    listener: (...args: FlushEngineEvents[K]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  #assertOpen(method: string): void {
    if (this.#closing) {
      throw new KalphiteUsageError(
        `${method}() was called after destroy(): the engine no longer writes. Create a new MemoryFlushEngine (or call persist() again).`,
      );
    }
  }

  #enqueue(
    operation: FlushChange["operation"],
    entityType: string,
    entityId: EntityId,
    entity: Entity | undefined,
  ): void {
    const key = entityKey(entityType, entityId);
    const change: FlushChange =
      entity === undefined
        ? { operation, entityId, entityType, timestamp: this.#clock.now() }
        : { operation, entityId, entityType, entity, timestamp: this.#clock.now() };
    // Newest wins: the old retry entry must never be written after this one.
    this.#retry.delete(key);
    // Delete then set keeps `pending` ordered by last write.
    this.#pending.delete(key);
    this.#pending.set(key, { key, change, seq: ++this.#seq });
    // While backing off, the retry timer will take this change along.
    if (!this.#paused && this.#retryTimer === undefined) this.#arm(this.#debounceMs);
  }

  /** Starts or moves the debounce timer, never past `maxWaitMs` after the first pending write. */
  #arm(debounceMs: number): void {
    const now = this.#clock.now();
    if (this.#firstPendingAt === undefined) this.#firstPendingAt = now;
    this.#dueAt = Math.min(now + debounceMs, this.#firstPendingAt + this.#maxWaitMs);
    if (this.#debounceTimer === undefined) {
      this.#debounceTimer = this.#clock.setTimeout(
        this.#onDebounce,
        Math.max(0, this.#dueAt - now),
      );
    }
  }

  readonly #onDebounce = (): void => {
    this.#debounceTimer = undefined;
    const now = this.#clock.now();
    if (now < this.#dueAt) {
      this.#debounceTimer = this.#clock.setTimeout(this.#onDebounce, this.#dueAt - now);
      return;
    }
    this.#firstPendingAt = undefined;
    // Due while a cycle runs: start the next one as soon as it ends, not a debounce later,
    // so that under a steady stream the lag stays one cycle, not one cycle plus a debounce.
    if (this.#running) this.#dueWhileRunning = true;
    else this.#autoFlush();
  };

  #autoFlush(): void {
    // A running cycle re-arms the timer when it ends if anything is left.
    if (this.#running || this.#paused || this.#destroyed) return;
    this.#runCycle().then(
      () => {
        this.#attempt = 0;
      },
      (error: KalphitePersistenceError) => {
        if (this.#paused || this.#destroyed) return;
        if (this.#attempt < this.#maxRetries) {
          const delay = this.#delay(this.#attempt++);
          this.#retryTimer = this.#clock.setTimeout(() => {
            this.#retryTimer = undefined;
            this.#autoFlush();
          }, delay);
        } else {
          // Give up for now; the changes stay queued for the next write or flush().
          this.#attempt = 0;
          this.#report(error);
        }
      },
    );
  }

  /** Writes, batch by batch, the retry queue then every pending change queued before now. */
  #runCycle(): Promise<void> {
    const through = this.#seq;
    const cycle = (async () => {
      while (!this.#paused || this.#closing) {
        const batch = this.#takeBatch(through);
        if (batch.length === 0) return;
        await this.#write(batch);
      }
    })();
    const running = cycle.then(
      () => this.#afterCycle(true),
      (error: unknown) => {
        this.#afterCycle(false);
        throw error;
      },
    );
    this.#running = running;
    return running;
  }

  /**
   * Schedules what comes after a cycle. After a success: the next cycle at once if one fell due
   * meanwhile, else a debounce if writes arrived. After a failure: nothing here; the caller
   * (the retry timer or `flush()`) decides when to try again, so backoff is not cut short.
   */
  #afterCycle(succeeded: boolean): void {
    this.#running = undefined;
    const due = this.#dueWhileRunning;
    this.#dueWhileRunning = false;
    if (!succeeded || this.#paused || this.#destroyed || this.#pending.size === 0) return;
    if (this.#retryTimer !== undefined) return;
    if (due) {
      // A timer that later writes cannot push back (they only move `#dueAt`).
      if (this.#debounceTimer !== undefined) this.#clock.clearTimeout(this.#debounceTimer);
      this.#debounceTimer = this.#clock.setTimeout(() => {
        this.#debounceTimer = undefined;
        this.#firstPendingAt = undefined;
        this.#autoFlush();
      }, 0);
    } else {
      this.#arm(this.#debounceMs);
    }
  }

  #takeBatch(through: number): Queued[] {
    const batch: Queued[] = [];
    for (const queue of [this.#retry, this.#pending]) {
      for (const queued of queue.values()) {
        if (batch.length >= this.#maxBatchSize || queued.seq > through) break;
        batch.push(queued);
      }
    }
    for (const queued of batch) {
      this.#retry.delete(queued.key);
      this.#pending.delete(queued.key);
      this.#inFlight.set(queued.key, queued);
    }
    return batch;
  }

  async #write(batch: Queued[]): Promise<void> {
    const changes = batch.map((queued) => queued.change);
    try {
      if (this.#enablePersistence) await this.#target.call(changes);
    } catch (error) {
      // Back to the head of the retry queue, unless a newer change to the entity is pending.
      const requeued = new Map<string, Queued>();
      for (const queued of batch) {
        if (!this.#pending.has(queued.key)) requeued.set(queued.key, queued);
      }
      for (const [key, queued] of this.#retry) requeued.set(key, queued);
      this.#retry = requeued;
      throw error;
    } finally {
      for (const queued of batch) {
        if (this.#inFlight.get(queued.key) === queued) this.#inFlight.delete(queued.key);
      }
    }
    this.#lastFlushTime = this.#clock.now();
    this.#events.emit("flush", { changes, persisted: this.#enablePersistence });
  }

  #hasQueuedThrough(seq: number): boolean {
    for (const queue of [this.#inFlight, this.#retry]) {
      for (const queued of queue.values()) if (queued.seq <= seq) return true;
    }
    const first = this.#pending.values().next();
    return !first.done && first.value.seq <= seq;
  }

  #delay(attempt: number): number {
    return backoffDelay(attempt, { base: this.#baseRetryDelay, jitter: this.#jitter }, () =>
      this.#clock.random(),
    );
  }

  #clearTimers(): void {
    if (this.#debounceTimer !== undefined) this.#clock.clearTimeout(this.#debounceTimer);
    if (this.#retryTimer !== undefined) this.#clock.clearTimeout(this.#retryTimer);
    this.#debounceTimer = undefined;
    this.#retryTimer = undefined;
    this.#firstPendingAt = undefined;
  }

  /** Reports a failed flush()/destroy(): the target's failure after the retries, or a usage error. */
  #reportFailure(error: unknown): void {
    this.#report(
      error instanceof KalphitePersistenceError
        ? error
        : new KalphitePersistenceError(`Flushing failed: ${String(error)}`, { cause: error }),
    );
  }

  /** To the `error` listeners, or the console when there is none. */
  #report(error: KalphitePersistenceError): void {
    this.#reportingError = true;
    try {
      if (!this.#events.emit("error", error)) console.error(error);
    } finally {
      this.#reportingError = false;
    }
  }
}
