import { computed, type ReadonlySignal, signal } from "@preact/signals-core";
import { AttachedEngines } from "./attached-engines.js";
import { toKeyFunction } from "./compare.js";
import { KalphiteUsageError } from "./errors.js";
import type { LiveQueryEngine, LiveSource } from "./live-source.js";
import type { Entity, KeySelector, Row } from "./types.js";

/** An inner join keeps only matched rows; a left join keeps every left row, unmatched ones with `undefined`. */
export type JoinKind = "inner" | "left";

/** A left row's place in a joined row: an entity under its type name; a joined row spread out. */
type LeftSide<L> = L extends Entity ? { readonly [K in L["type"]]: L } : Omit<L, "id">;

/**
 * One row of a join: a composite `id`, the left row under its type name (or, for a join of a
 * join, its fields), and the right row under its type name or the `as` option's name (possibly
 * `undefined` in a left join).
 *
 * @example JoinRow<Comment, Review, "review", "left"> // { id; comment: Comment; review: Review | undefined }
 */
export type JoinRow<L, R, A extends string, J extends JoinKind> = {
  readonly id: string;
} & LeftSide<L> & {
    readonly [K in A]: J extends "left" ? R | undefined : R;
  };

/** How two live sources are joined. */
export interface JoinOptions<L, R, A extends string = string, J extends JoinKind = JoinKind> {
  /** The left row's key (a field path or a function), matched against the right row's `equals`. */
  on: KeySelector<L>;
  /**
   * The right row's key that `on` must equal.
   * @default "id" (a foreign key: `on: "data.reviewId"` joins the review with that id)
   */
  equals?: KeySelector<R>;
  /**
   * `"inner"` keeps only matched pairs; `"left"` keeps every left row, `undefined` on the right
   * when nothing matches.
   * @default "inner"
   */
  kind?: J;
  /**
   * The name of the right row in each joined row.
   * @default the right collection's type name (`"review"`)
   */
  as?: A;
}

/** What the join reads of one side: its source and filter. */
export interface JoinSide<T extends Row> {
  source: LiveSource<T>;
  predicate: (row: T) => boolean;
}

export interface JoinSpec<L extends Row, R extends Row> {
  left: JoinSide<L>;
  right: JoinSide<R>;
  leftKey: (row: L) => unknown;
  rightKey: (row: R) => unknown;
  kind: JoinKind;
  leftName: string;
  rightName: string;
  /** The left rows are joined rows themselves: spread them instead of nesting. */
  spreadLeft: boolean;
  /** The names of a joined row's parts (all but `id`), for a join of this join. */
  parts: readonly string[];
}

type JoinedRow = Row & Record<string, unknown>;

/**
 * The maintained state of a join: its rows, and each side's rows by join key, as the join has
 * been handed them. It never reads a side's values while it takes in a write: a write made by a
 * listener during the walk is already in the values, and reaches the join only after.
 */
interface JoinState {
  rows: Map<string, JoinedRow>;
  leftsByKey: Map<unknown, Map<string, Row>>;
  rightsByKey: Map<unknown, Map<string, Row>>;
}

const SEPARATOR = "\u0000";

/**
 * The rows of a join of two live sources, as a live source itself: a query over it
 * (`where`, `orderBy`, `window`, `aggregate`, another `join`) is a live query like any other.
 *
 * While a query over it is subscribed, the join keeps its rows and both sides' rows by join key,
 * and a write to either side costs O(rows affected) here plus O(log n) per affected row in each
 * query: a write to a review updates the joined row of each of its comments. Unwatched, its rows
 * are computed on demand.
 */
export class JoinSource<L extends Row, R extends Row> implements LiveSource<JoinedRow> {
  readonly entityType: string;
  readonly version: ReadonlySignal<number>;
  /** @internal */
  readonly _spec: JoinSpec<L, R>;
  readonly #spec: JoinSpec<L, R>;
  readonly #queries: AttachedEngines<JoinedRow>;
  readonly #leftEngine: LiveQueryEngine<L> = { _apply: (p, n) => this.#applyLeft(p, n) };
  readonly #rightEngine: LiveQueryEngine<R> = { _apply: (p, n) => this.#applyRight(p, n) };
  #state: JoinState | undefined;
  /**
   * Bumped by each change to the kept rows: a side's version moves before the join takes in the
   * write, so a query read half-way (from a change listener) must see the join move again after.
   */
  readonly #changes = signal(0);
  readonly #unmatched = new WeakMap<L, JoinedRow>();

  /** @internal Use `query.join(other, options)`. */
  constructor(spec: JoinSpec<L, R>) {
    this.#spec = this._spec = spec;
    this.#queries = new AttachedEngines((error) => this.reportError(error));
    this.entityType = `${spec.left.source.entityType} ⋈ ${spec.rightName}`;
    const { left, right } = spec;
    this.version = computed(
      () => left.source.version.value + right.source.version.value + this.#changes.value,
    );
  }

  get values(): ReadonlyMap<string, JoinedRow> {
    return (this.#state ?? this.#build()).rows;
  }

  attach(query: LiveQueryEngine<JoinedRow>): void {
    this.#queries.add(query);
    if (this.#state !== undefined) return;
    this.#state = this.#build();
    this.#spec.left.source.attach(this.#leftEngine);
    this.#spec.right.source.attach(this.#rightEngine);
  }

  detach(query: LiveQueryEngine<JoinedRow>): void {
    this.#queries.delete(query);
    if (this.#queries.size > 0 || this.#state === undefined) return;
    this.#spec.left.source.detach(this.#leftEngine);
    this.#spec.right.source.detach(this.#rightEngine);
    this.#state = undefined;
  }

  reportError(error: unknown): void {
    this.#spec.left.source.reportError(error);
  }

  #build(): JoinState {
    const { left, right, leftKey, rightKey, kind } = this.#spec;
    const state: JoinState = { rows: new Map(), leftsByKey: new Map(), rightsByKey: new Map() };
    for (const row of right.source.values.values()) {
      if (right.predicate(row)) addTo(state.rightsByKey, rightKey(row), row);
    }
    for (const row of left.source.values.values()) {
      if (!left.predicate(row)) continue;
      const key = leftKey(row);
      addTo(state.leftsByKey, key, row);
      const matches = matchable(key) ? state.rightsByKey.get(key) : undefined;
      if (matches !== undefined) {
        for (const match of matches.values()) {
          const joined = this.#row(row, match as R);
          state.rows.set(joined.id, joined);
        }
      } else if (kind === "left") {
        const joined = this.#row(row, undefined);
        state.rows.set(joined.id, joined);
      }
    }
    return state;
  }

  #row(left: L, right: R | undefined): JoinedRow {
    if (right === undefined) {
      // One unmatched row per left row: a match that came and went (in one batch) changes nothing.
      let row = this.#unmatched.get(left);
      if (row === undefined) this.#unmatched.set(left, (row = this.#buildRow(left, undefined)));
      return row;
    }
    return this.#buildRow(left, right);
  }

  #buildRow(left: L, right: R | undefined): JoinedRow {
    const { leftName, rightName, spreadLeft } = this.#spec;
    const id = `${left.id}${SEPARATOR}${right === undefined ? "" : right.id}`;
    const row: Record<string, unknown> = spreadLeft
      ? { ...(left as object) }
      : { [leftName]: left };
    row.id = id;
    row[rightName] = right;
    return Object.freeze(row) as JoinedRow;
  }

  /** The ids of one left row's rows: one per matching right row, or one unmatched in a left join. */
  #rowIdsOf(leftId: string, key: unknown, state: JoinState): string[] {
    const matches = matchable(key) ? state.rightsByKey.get(key) : undefined;
    if (matches === undefined) return this.#spec.kind === "left" ? [`${leftId}${SEPARATOR}`] : [];
    const ids: string[] = [];
    for (const id of matches.keys()) ids.push(`${leftId}${SEPARATOR}${id}`);
    return ids;
  }

  /** The rows of one left row: one per matching right row, or one unmatched in a left join. */
  #rowsOf(left: L, key: unknown, state: JoinState): JoinedRow[] {
    const matches = matchable(key) ? state.rightsByKey.get(key) : undefined;
    if (matches === undefined)
      return this.#spec.kind === "left" ? [this.#row(left, undefined)] : [];
    const rows: JoinedRow[] = [];
    for (const right of matches.values()) rows.push(this.#row(left, right as R));
    return rows;
  }

  #applyLeft(previous: L | undefined, next: L | undefined): void {
    const { left, leftKey } = this.#spec;
    const state = this.#state!;
    // The same object again: nothing changed.
    if (previous === next) return;
    const wasIn = previous !== undefined && left.predicate(previous);
    const isIn = next !== undefined && left.predicate(next);
    if (!wasIn && !isIn) return;
    const oldKey = wasIn ? leftKey(previous) : undefined;
    const newKey = isIn ? leftKey(next) : undefined;
    const before = wasIn ? this.#rowIdsOf(previous.id, oldKey, state) : [];
    const after = isIn ? this.#rowsOf(next, newKey, state) : [];
    if (wasIn) removeFrom(state.leftsByKey, oldKey, previous.id);
    if (isIn) addTo(state.leftsByKey, newKey, next);
    // A row whose pair is the same (the common update) is replaced; the others leave or enter.
    const entering = new Map(after.map((row) => [row.id, row]));
    for (const rowId of before) {
      const replacement = entering.get(rowId);
      entering.delete(rowId);
      this.#emit(state, state.rows.get(rowId)!, replacement);
    }
    for (const row of entering.values()) this.#emit(state, undefined, row);
  }

  #applyRight(previous: R | undefined, next: R | undefined): void {
    const { right, rightKey, kind } = this.#spec;
    const state = this.#state!;
    if (previous === next) return;
    const wasIn = previous !== undefined && right.predicate(previous);
    const isIn = next !== undefined && right.predicate(next);
    if (!wasIn && !isIn) return;
    const oldKey = wasIn ? rightKey(previous) : undefined;
    const newKey = isIn ? rightKey(next) : undefined;
    const id = (previous ?? next)!.id;
    if (wasIn && isIn && Object.is(oldKey, newKey)) {
      // The same pairs: each joined row gets the new right row.
      addTo(state.rightsByKey, newKey, next);
      for (const left of state.leftsByKey.get(oldKey)?.values() ?? []) {
        const rowId = `${left.id}${SEPARATOR}${id}`;
        this.#emit(state, state.rows.get(rowId)!, this.#row(left as L, next));
      }
      return;
    }
    if (wasIn) {
      removeFrom(state.rightsByKey, oldKey, id);
      const stillMatched = matchable(oldKey) && state.rightsByKey.has(oldKey);
      for (const left of state.leftsByKey.get(oldKey)?.values() ?? []) {
        this.#emit(state, state.rows.get(`${left.id}${SEPARATOR}${id}`)!, undefined);
        if (kind === "left" && !stillMatched)
          this.#emit(state, undefined, this.#row(left as L, undefined));
      }
    }
    if (isIn) {
      const wasMatched = matchable(newKey) && state.rightsByKey.has(newKey);
      addTo(state.rightsByKey, newKey, next);
      for (const left of state.leftsByKey.get(newKey)?.values() ?? []) {
        if (kind === "left" && !wasMatched) {
          this.#emit(state, state.rows.get(`${left.id}${SEPARATOR}`)!, undefined);
        }
        this.#emit(state, undefined, this.#row(left as L, next));
      }
    }
  }

  /**
   * Applies one row change to the rows, then to every query over the join; nothing once the
   * state changed during the write (its last query stopped, maybe another started afresh).
   */
  #emit(state: JoinState, previous: JoinedRow | undefined, next: JoinedRow | undefined): void {
    if (this.#state !== state) return;
    const rows = state.rows;
    if (next === undefined) rows.delete(previous!.id);
    else rows.set(next.id, next);
    this.#changes.value++;
    this.#queries.apply(previous, next);
  }
}

/** Keys that can match: `undefined` and `null` match nothing, as NULL in SQL. */
function matchable(key: unknown): boolean {
  return key !== undefined && key !== null;
}

function addTo(map: Map<unknown, Map<string, Row>>, key: unknown, row: Row): void {
  if (!matchable(key)) return;
  const rows = map.get(key);
  if (rows === undefined) map.set(key, new Map([[row.id, row]]));
  else rows.set(row.id, row);
}

function removeFrom(map: Map<unknown, Map<string, Row>>, key: unknown, id: string): void {
  if (!matchable(key)) return;
  const rows = map.get(key);
  if (rows === undefined) return;
  rows.delete(id);
  if (rows.size === 0) map.delete(key);
}

/** Checks a join's options and turns them into a spec. */
export function joinSpec<L extends Row, R extends Row>(
  left: JoinSide<L>,
  right: JoinSide<R>,
  options: JoinOptions<L, R>,
): JoinSpec<L, R> {
  if (options === null || typeof options !== "object") {
    throw new KalphiteUsageError('join(other, options) needs options: { on: "data.reviewId" }.');
  }
  const { on, equals = "id", kind = "inner", as } = options;
  const leftKey = toKeyFunction(on, "join option on");
  const rightKey = toKeyFunction(equals as KeySelector<R>, "join option equals");
  if (kind !== "inner" && kind !== "left") {
    throw new KalphiteUsageError(
      `join option kind must be "inner" or "left", not ${String(kind)}.`,
    );
  }
  if (as === undefined && right.source instanceof JoinSource) {
    throw new KalphiteUsageError(
      "The right side of this join is a join: name it with the as option.",
    );
  }
  const rightName = as ?? right.source.entityType;
  if (typeof rightName !== "string" || rightName === "" || rightName === "id") {
    throw new KalphiteUsageError(
      `join option as must be a name other than "id", not ${String(as)}.`,
    );
  }
  const leftName = left.source.entityType;
  // A join of a join spreads the left rows' parts: the right one must not take a part's name.
  const leftParts =
    left.source instanceof JoinSource ? (left.source._spec as JoinSpec<L, R>).parts : undefined;
  if ((leftParts ?? [leftName]).includes(rightName)) {
    throw new KalphiteUsageError(
      `Both sides of this join have rows called "${rightName}": name the right side with the as option (join(other, { on, as: "parent" })).`,
    );
  }
  return {
    left,
    right,
    leftKey,
    rightKey,
    kind,
    leftName,
    rightName,
    spreadLeft: leftParts !== undefined,
    parts: [...(leftParts ?? [leftName]), rightName],
  };
}
