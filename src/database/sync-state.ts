// The sync engine's state in the database, written incrementally. A NetworkSyncEngine records
// deltas here (through the `SyncPersistence` interface of src/sync); the flush target
// `db.applyChanges` takes the deltas that belong with its entity changes into the same
// transaction, and deltas with no entity change (an ack of what the store already shows) are
// written on their own, never ahead of an entity change recorded before them.
import type { PGlite, Transaction } from "@electric-sql/pglite";
import { entityKey } from "../core/entity-key.js";
import type { Entity } from "../core/index.js";
import type { SyncDeltaOf } from "../internal/sync-delta.js";
import { durableTransaction } from "./durable-transaction.js";
import { ENTITIES, META, queryError, SYNC_OUTBOX, SYNC_ROOMS, SYNC_VERSIONS } from "./sql.js";
import type { StorageBudget } from "./storage-budget.js";
import {
  foldStatements,
  RESET_VERSIONS,
  SIZE_OF_VERSIONS,
  type SyncStatement,
} from "./sync-statements.js";

export type { SyncStatement } from "./sync-statements.js";

// The shapes of `SyncPersistence` in src/sync/persistence.ts, restated: the database layer may
// not import the sync layer (test/database/sync-state.test.ts checks that they still fit).
type VectorClock = Record<string, number>;
interface ServerLimits {
  maxMessageBytes: number;
  maxDepth: number;
}
interface OutboxEntry {
  messageId: string;
  entityType: string;
  entityId: string;
  entity?: Entity;
}
interface ConfirmedVersion {
  entityType: string;
  entityId: string;
  entity: Entity | null;
  vector: VectorClock;
  seq: number;
}
interface LoadedVersion extends Omit<ConfirmedVersion, "entity"> {
  entity: Entity | null | undefined;
  shown?: boolean;
}
interface LoadedSyncState {
  cursor: number;
  versions: LoadedVersion[];
  /** Outbox entries as the engine recorded them (their shape is the sync layer's). */
  outbox: any[];
  limits?: ServerLimits;
}
export type SyncDelta = SyncDeltaOf<ConfirmedVersion, OutboxEntry, ServerLimits>;
interface DeltaEntity {
  entityType: string;
  entityId: string;
}
interface SyncPersistence {
  load(): Promise<LoadedSyncState | undefined>;
  record(delta: SyncDelta, entity?: DeltaEntity): void;
  flush(): Promise<void>;
}
/** The first release's whole-state value. */
interface SyncState {
  version: 1;
  roomId: string;
  cursor: number;
  confirmed: ConfirmedVersion[];
  outbox: OutboxEntry[];
}

/** A store persisted into a database by `persist()`: its entity rows are the store's entities. */
export interface PersistLink {
  /** Resolves once hydration has put the stored entities into the store. */
  hydrated: Promise<void>;
  /** Writes every queued entity change (the flush engine's `flush()`). */
  flush(): Promise<void>;
}

const links = new WeakMap<object, PersistLink>();

/** Called by `persist()`: the database's entity rows now follow a store. */
export function linkPersistence(database: object, link: PersistLink): () => void {
  links.set(database, link);
  return () => {
    if (links.get(database) === link) links.delete(database);
  };
}

/** What a SyncStateTable needs from its FrontendDatabase. */
export interface SyncStateHost {
  ready(): Promise<PGlite>;
  /** The database's `maxStorageMB` accounting, which the sync tables count against. */
  budget: StorageBudget;
  /** Runs `fn` after every write started before it (the database's write order). */
  serialize<T>(fn: () => Promise<T>): Promise<T>;
}

interface Pending {
  delta: SyncDelta;
  /** The entity key of the entity change this delta belongs with. */
  key: string | undefined;
  /** The entity change it belongs with is in a flush batch (or there are no entity rows). */
  satisfied: boolean;
  /** The marks of the flush batch it is satisfied by (not taken yet): it goes with its rows. */
  marked?: readonly Pending[] | undefined;
  /** Of a reset taken with forgets held back: the versions (`[type, id]`) it leaves as they are. */
  keep?: [string, string][];
  /** Its place in the order recorded. */
  n: number;
}

/** The meta key of the first release's whole-state value. */
export const legacyKey = (roomId: string) => `kalphite.sync.${roomId}`;

/** One room's sync state in a FrontendDatabase: `db.syncState(roomId)`. */
export class SyncStateTable implements SyncPersistence {
  readonly #host: SyncStateHost;
  readonly #database: object;
  readonly #room: string;
  #queue: Pending[] = [];
  #recorded = 0;
  #committed = 0;
  /** The write holding taken deltas, if any: `flush()` waits for it. */
  #writing: Promise<void> | undefined;
  /** Releases the writes held since `load()` (once the engine took the loaded state). */
  #loadHeld: (() => void) | undefined;

  /** The room this state belongs to. */
  get room(): string {
    return this.#room;
  }

  constructor(database: object, host: SyncStateHost, room: string) {
    this.#database = database;
    this.#host = host;
    this.#room = room;
  }

  /**
   * Reads the room's state. The database's writes wait from this call until the engine has taken
   * what it read: a local write made meanwhile records its outbox entry only then, and its row
   * must not commit before it (a crash in between would reload the edit with no entry to send).
   */
  async load(): Promise<LoadedSyncState | undefined> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let begin!: () => void;
    const turn = new Promise<void>((resolve) => {
      begin = resolve;
    });
    void this.#host.serialize(() => {
      begin();
      return held;
    });
    try {
      await turn;
      return await this.#read();
    } finally {
      // The engine takes the state in the microtasks after this resolves, and records the writes
      // made meanwhile at once: the writes go on at its first record, or a task later.
      this.#loadHeld = release;
      setTimeout(() => {
        if (this.#loadHeld === release) this.#endLoad();
      }, 0);
    }
  }

  /** Lets the writes held by `load()` go on. */
  #endLoad(): void {
    const release = this.#loadHeld;
    this.#loadHeld = undefined;
    release?.();
  }

  async #read(): Promise<LoadedSyncState | undefined> {
    const link = links.get(this.#database);
    if (link) await link.hydrated;
    const pg = await this.#host.ready();
    await this.#migrateLegacy(pg);
    const room = this.#room;
    let sql = `select cursor::float8 as cursor, limits from ${SYNC_ROOMS} where room = $1`;
    try {
      const head = (await pg.query<{ cursor: number; limits: ServerLimits | null }>(sql, [room]))
        .rows[0];
      sql = `select coalesce(json_agg(entry order by pos)::text, '[]') as page from ${SYNC_OUTBOX} where room = $1`;
      const outbox = JSON.parse(
        (await pg.query<{ page: string }>(sql, [room])).rows[0]?.page ?? "[]",
      ) as OutboxEntry[];
      // Without a persisted store the entity rows are not the store's: read the shown entities
      // from them here. With one, only the entities that differ from the rows are read.
      const entities = link
        ? `json_agg(v.entity) filter (where not v.shown)`
        : `json_agg(case when v.shown then e.entity::json else v.entity::json end)`;
      // One aggregate per column (as the entities are read, see aggregateRows): PGlite then
      // hands over a few long strings instead of a row per version. The aggregates of one query
      // see the rows in the same order, so the columns line up without sorting each.
      sql = `select coalesce(json_agg(v.type)::text, '[]') as types,
          coalesce(json_agg(v.id)::text, '[]') as ids,
          '[' || coalesce(string_agg(v.vector::text, ','), '') || ']' as vectors,
          coalesce(json_agg(v.seq)::text, '[]') as seqs,
          coalesce(${entities}::text, '[]') as entities,
          coalesce(json_agg(v.shown)::text, '[]') as shown
        from ${SYNC_VERSIONS} v ${link ? "" : `left join ${ENTITIES} e on e.type = v.type and e.id = v.id`}
        where v.room = $1`;
      const columns = (await pg.query<Record<string, string>>(sql, [room])).rows[0]!;
      const types = JSON.parse(columns.types!) as string[];
      const ids = JSON.parse(columns.ids!) as string[];
      const vectors = JSON.parse(columns.vectors!) as VectorClock[];
      const seqs = JSON.parse(columns.seqs!) as number[];
      const stored = JSON.parse(columns.entities!) as (Entity | null)[];
      const shown = JSON.parse(columns.shown!) as boolean[];
      if (head === undefined && outbox.length === 0 && types.length === 0) return undefined;
      const versions: LoadedVersion[] = new Array(types.length);
      let next = 0;
      for (let i = 0; i < types.length; i++) {
        versions[i] = {
          entityType: types[i]!,
          entityId: ids[i]!,
          vector: vectors[i]!,
          seq: Number(seqs[i]),
          // A shown version's entity is the store's (hydrated from its row): `undefined`.
          entity: link && shown[i] ? undefined : (stored[link ? next++ : i] ?? null),
        };
        // Read from the row (no store linked yet): the engine must still know it is shown.
        if (!link && shown[i]) versions[i]!.shown = true;
      }
      return {
        cursor: head?.cursor ?? 0,
        versions,
        outbox,
        ...(head?.limits ? { limits: head.limits } : {}),
      };
    } catch (error) {
      throw queryError(`Reading the sync state of room "${room}"`, error, sql);
    }
  }

  record(delta: SyncDelta, entity?: DeltaEntity): void {
    const key = entity ? entityKey(entity.entityType, entity.entityId) : undefined;
    // Without a persisted store there is no entity row to wait for.
    const satisfied = key === undefined || !links.has(this.#database);
    this.#queue.push({ delta, key, satisfied, n: ++this.#recorded });
    if (this.#loadHeld) this.#endLoad();
  }

  async flush(): Promise<void> {
    if (this.#loadHeld) this.#endLoad();
    const target = this.#recorded;
    while (this.#committed < target) {
      const head = this.#queue[0];
      if (head === undefined) {
        // Taken by a write in progress.
        if (this.#writing) await this.#writing;
        else break;
        continue;
      }
      const waiting = this.#queue.findIndex((pending) => !pending.satisfied);
      if (waiting >= 0) {
        // Some delta waits for its entity's row: the entity flush takes it, and every delta
        // before it, in one write.
        const link = links.get(this.#database);
        const first = this.#queue[waiting];
        if (link) await link.flush();
        // Nothing of that entity was left to flush: the delta goes on its own.
        if (first && !first.satisfied && this.#queue.includes(first)) first.satisfied = true;
        continue;
      }
      await this.#host.serialize(async () => {
        const taken = this.take();
        if (taken.length === 0) return;
        const pg = await this.#host.ready();
        const budget = this.#host.budget;
        try {
          const change = await durableTransaction(pg, async (tx) => {
            const grown = await this.write(tx, taken, budget.limited);
            return budget.limited ? budget.grow(grown) : 0;
          });
          budget.bytes += change;
        } catch (error) {
          this.putBack(taken);
          throw queryError(`Writing the sync state of room "${this.#room}"`, error);
        }
        this.committed(taken);
      });
    }
  }

  /**
   * A flush batch writes these entities: the deltas that belong with them may go with it.
   * Returns those it marked, for `unmark` should the batch fail.
   */
  mark(keys: { has(key: string): boolean }): Pending[] {
    const marked: Pending[] = [];
    for (const pending of this.#queue) {
      if (pending.satisfied || !keys.has(pending.key as string)) continue;
      pending.satisfied = true;
      pending.marked = marked;
      marked.push(pending);
    }
    return marked;
  }

  /**
   * The batch that marked these failed: those still queued (not taken, behind a delta waiting
   * for another entity) wait for their entities again, or a later batch would commit them
   * without their rows.
   */
  unmark(marked: readonly Pending[]): void {
    if (marked.length === 0) return;
    const queued = new Set(this.#queue);
    for (const pending of marked) {
      if (!queued.has(pending)) continue;
      pending.satisfied = false;
      pending.marked = undefined;
    }
  }

  /**
   * Takes the deltas that may be written now: the longest prefix whose entity changes are in,
   * and with `through` (the deltas a flush batch marked) every delta up to the last of them, or
   * that batch would commit entity rows without their deltas. The prefix ends at a delta another
   * (waiting) batch marked, or that of the sync state's own write: it goes with its row.
   *
   * A delta taken ahead of its entity row must reload as before or after its change:
   * - a shown version stores its entity (the row does not hold it yet);
   * - a snapshot's reset keeps the version rows of the entities whose deltas stay queued: each
   *   reloads as before until its row and new version commit together (taking them along stored
   *   a big snapshot's entities twice, in their versions: 16 MB more in a room of 100,000);
   * - a forgotten version stays queued, and the version row as it is, until its row goes (a
   *   reset before it keeps that version row), unless a version taken after it replaces it.
   */
  take(through?: readonly Pending[]): Pending[] {
    const queue = this.#queue;
    // Its entity change is in, and not in a batch still to commit (but this one).
    const free = (pending: Pending) =>
      pending.satisfied && (pending.marked === undefined || pending.marked === through);
    let count = 0;
    while (count < queue.length && free(queue[count]!)) count++;
    // Marked in queue order, and taken only from the head: not queued means already taken.
    const last = through?.at(-1);
    const at = last === undefined ? -1 : queue.indexOf(last, count);
    if (at >= 0) count = at + 1;
    if (count === 0) return [];
    // The entities of the versions left queued after a reset taken now (it keeps their rows).
    const later: [string, string][] = [];
    let reset = false;
    for (let i = 0; i < count && !reset; i++) reset = queue[i]!.delta.kind === "reset-versions";
    if (reset)
      for (let i = count; i < queue.length; i++) {
        const delta = queue[i]!.delta;
        if (delta.kind === "reset-versions") break;
        if (delta.kind === "version")
          later.push([delta.version.entityType, delta.version.entityId]);
        else if (delta.kind === "forget-version") later.push([delta.entityType, delta.entityId]);
      }
    // From the last: whether a version taken later replaces the row (every row, after a reset).
    const replaced = new Set<string>();
    let all = false;
    const held: Pending[] = [];
    for (let i = count - 1; i >= 0; i--) {
      const pending = queue[i]!;
      const delta = pending.delta;
      const ahead = !free(pending);
      if (delta.kind === "reset-versions") {
        const keep = held.map((h) => {
          const d = h.delta as Extract<SyncDelta, { kind: "forget-version" }>;
          return [d.entityType, d.entityId] as [string, string];
        });
        for (const row of later) keep.push(row);
        if (keep.length > 0) pending.keep = keep;
        else delete pending.keep;
        all = true;
        continue;
      }
      if (delta.kind !== "version" && delta.kind !== "forget-version") continue;
      const type = delta.kind === "version" ? delta.version.entityType : delta.entityType;
      const id = delta.kind === "version" ? delta.version.entityId : delta.entityId;
      const row = entityKey(type, id);
      if (delta.kind === "forget-version" && ahead && !all && !replaced.has(row)) {
        held.push(pending);
        continue;
      }
      if (delta.kind === "version" && ahead && delta.shown)
        pending.delta = { ...delta, shown: false };
      replaced.add(row);
    }
    const taken = queue.splice(0, count);
    if (held.length > 0) {
      const back = new Set(held);
      queue.unshift(...held.reverse());
      taken.splice(0, taken.length, ...taken.filter((pending) => !back.has(pending)));
      if (taken.length === 0) return [];
    }
    let done!: () => void;
    this.#writing = new Promise<void>((resolve) => {
      done = resolve;
    });
    (taken as Pending[] & { done?: () => void }).done = done;
    return taken;
  }

  /**
   * The write of `taken` failed: they go back to the head, as satisfied as they were (a delta
   * whose entity row committed earlier must not wait again; `unmark` undoes the failed batch's),
   * in the order recorded among the forgets `take` held back.
   */
  putBack(taken: Pending[]): void {
    const queue = this.#queue;
    const last = taken.at(-1)?.n ?? 0;
    let held = 0;
    while (held < queue.length && queue[held]!.n < last) held++;
    const head = [...taken, ...queue.splice(0, held)].sort((a, b) => a.n - b.n);
    queue.unshift(...head);
    this.#release(taken);
  }

  committed(taken: Pending[]): void {
    // Every delta up to `#committed` is in: not past a forget `take` held back.
    const held = this.#queue[0]?.n ?? Number.POSITIVE_INFINITY;
    this.#committed = Math.max(this.#committed, Math.min(taken.at(-1)?.n ?? 0, held - 1));
    this.#release(taken);
  }

  #release(taken: Pending[]): void {
    this.#writing = undefined;
    (taken as Pending[] & { done?: () => void }).done?.();
  }

  /**
   * Writes the deltas, folded to one statement per table, inside `tx`. With `counted` (under
   * `maxStorageMB`), returns the bytes the sync tables grew by (negative when they shrank).
   */
  async write(tx: Transaction, taken: readonly Pending[], counted = false): Promise<number> {
    const { reset, kept, statements } = this.statements(taken, 0);
    const room = [this.#room, kept];
    if (!counted) {
      if (reset) await tx.query(RESET_VERSIONS, room);
      for (const { sql, param } of statements) await tx.query(sql.trim(), [this.#room, param]);
      return 0;
    }
    const sum = async (sql: string, params: unknown[]) =>
      (
        await tx.query<{ bytes: number }>(
          `with w as (${sql} returning size) select coalesce(sum(size), 0)::float8 as bytes from w`,
          params,
        )
      ).rows[0]!.bytes;
    let grown = reset ? -(await sum(RESET_VERSIONS, room)) : 0;
    for (const { sql, param, sized } of statements) {
      const params = [this.#room, param];
      if (sized === undefined) await tx.query(sql.trim(), params);
      else if (sized === "removes") grown -= await sum(sql, params);
      else {
        if (sized === "replaces")
          grown -= (await tx.query<{ bytes: number }>(SIZE_OF_VERSIONS, params)).rows[0]!.bytes;
        grown += await sum(sql, params);
      }
    }
    return grown;
  }

  /**
   * The deltas folded to one statement per table (the last value of each row wins): each
   * statement takes the room as `$1` and its JSON rows as `$<param>` (`$firstParam`, the next
   * one for the next statement, or `$2` for each when `firstParam` is 0); the statements touch
   * disjoint rows, so they may also run as the parts of ONE statement (see `applyChanges`).
   * `reset` asks for every confirmed version to go first (then they must run in order).
   */
  statements(
    taken: readonly Pending[],
    firstParam: number,
  ): { reset: boolean; kept: string; statements: SyncStatement[] } {
    return foldStatements(taken, firstParam, links.has(this.#database));
  }

  /**
   * A database written by the first release holds the room's whole sync state in one metadata
   * value: move it into the rows (every version with its entity, the outbox in order, the
   * cursor) and drop the value, in one transaction. The outbox keeps its message ids, so
   * nothing is sent twice (the server would ignore a resend anyway).
   */
  async #migrateLegacy(pg: PGlite): Promise<void> {
    const key = legacyKey(this.#room);
    const sql = `select value from ${META} where key = $1`;
    try {
      const row = (await pg.query<{ value: SyncState }>(sql, [key])).rows[0];
      if (row === undefined) return;
      const state = row.value;
      await durableTransaction(pg, async (tx) => {
        if (state?.version === 1 && state.roomId === this.#room) {
          const taken: Pending[] = [];
          let n = 0;
          const push = (delta: SyncDelta) =>
            taken.push({ delta, key: undefined, satisfied: true, n: ++n });
          for (const version of state.confirmed) push({ kind: "version", version, shown: false });
          for (const entry of state.outbox) push({ kind: "outbox-add", entry });
          push({ kind: "cursor", cursor: state.cursor });
          await this.write(tx, taken);
        }
        await tx.query(`delete from ${META} where key = $1`, [key]);
        // Moved from a metadata value into rows, counted differently: count them again.
        await this.#host.budget.count(tx);
      });
    } catch (error) {
      throw queryError(`Migrating the sync state of room "${this.#room}"`, error, sql);
    }
  }
}
