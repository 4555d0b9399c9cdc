import { effect } from "@preact/signals-core";
import fc from "fast-check";
import { describe, it } from "vitest";
import {
  compareKeys,
  KalphiteStore,
  type LiveQuery,
  type LiveValue,
  type LiveWindow,
} from "../../src/core/index.js";
import { type Comment, comment, Entity } from "../fixtures/schema.js";
import { batchOf } from "./support/batches.js";

/**
 * The incremental-maintenance oracle: random writes against live queries in every mode of
 * subscription, each checked after every step against a naive filter + sort of a model.
 */

type Write =
  | {
      kind: "upsert";
      id: string;
      lineNumber: number;
      status: "open" | "resolved";
      body: string;
      updatedAt: number;
    }
  | { kind: "delete"; id: string };
type Step =
  | Write
  | { kind: "batch"; writes: Write[] }
  | { kind: "upsertMany"; writes: Extract<Write, { kind: "upsert" }>[] }
  | { kind: "deleteMany"; ids: string[] }
  | { kind: "toggle"; query: number }
  | { kind: "move"; query: number; offset: number; count: number };

interface QuerySpec {
  name: string;
  filter: (c: Comment) => boolean;
  /** Undefined: no orderBy, rows are ordered by id. */
  key?: ((c: Comment) => unknown) | "data.lineNumber" | "data.body";
  direction: "asc" | "desc";
  offset?: number;
  limit?: number;
  /** A movable window (`window(offset, limit)`), moved by "move" steps. */
  window?: boolean;
  mode: "subscribe" | "effect" | "changes" | "read" | "toggle";
}

const specs: QuerySpec[] = [
  { name: "all by id", filter: () => true, direction: "asc", mode: "subscribe" },
  {
    name: "open by line, limit 5",
    filter: (c) => c.data.status === "open",
    key: "data.lineNumber",
    direction: "asc",
    limit: 5,
    mode: "subscribe",
  },
  {
    name: "line > 5 by updatedAt desc",
    filter: (c) => c.data.lineNumber > 5,
    key: (c) => c.updatedAt,
    direction: "desc",
    mode: "effect",
  },
  {
    name: "by body desc, limit 3",
    filter: () => true,
    key: "data.body",
    direction: "desc",
    limit: 3,
    mode: "changes",
  },
  {
    name: "open and even, many ties, limit 4",
    filter: (c) => c.data.status === "open" && c.data.lineNumber % 2 === 0,
    key: (c) => c.data.lineNumber % 3,
    direction: "asc",
    limit: 4,
    mode: "toggle",
  },
  {
    name: "mixed key types and NaN",
    filter: () => true,
    key: (c) =>
      [undefined, String(c.data.lineNumber), Number.NaN, c.data.lineNumber, null][
        c.data.lineNumber % 5
      ],
    direction: "desc",
    mode: "toggle",
  },
  {
    name: "resolved, limit 0",
    filter: (c) => c.data.status === "resolved",
    direction: "asc",
    limit: 0,
    mode: "subscribe",
  },
  {
    name: "read only, limit 2",
    filter: (c) => c.data.lineNumber < 8,
    key: "data.lineNumber",
    direction: "desc",
    limit: 2,
    mode: "read",
  },
  {
    name: "window over open by line",
    filter: (c) => c.data.status === "open",
    key: "data.lineNumber",
    direction: "asc",
    offset: 3,
    limit: 4,
    window: true,
    mode: "subscribe",
  },
  {
    name: "window by updatedAt desc, toggled",
    filter: () => true,
    key: (c) => c.updatedAt,
    direction: "desc",
    offset: 0,
    limit: 5,
    window: true,
    mode: "toggle",
  },
  {
    name: "offset 6 without limit, in an effect",
    filter: (c) => c.data.lineNumber % 3 !== 0,
    key: "data.lineNumber",
    direction: "desc",
    offset: 6,
    mode: "effect",
  },
  {
    name: "offset 2, limit 3, diffs",
    filter: () => true,
    key: "data.body",
    direction: "asc",
    offset: 2,
    limit: 3,
    mode: "changes",
  },
];

function keyFunction(spec: QuerySpec): (c: Comment) => unknown {
  if (spec.key === undefined) return () => undefined;
  if (typeof spec.key === "function") return spec.key;
  const field = spec.key === "data.lineNumber" ? "lineNumber" : "body";
  return (c) => c.data[field];
}

/** The naive result: filter everything, sort by key (compareKeys), ties by id. */
function naive(spec: QuerySpec, model: Map<string, Comment>): Comment[] {
  const key = keyFunction(spec);
  const sign = spec.direction === "desc" ? -1 : 1;
  return [...model.values()]
    .filter(spec.filter)
    .sort((a, b) => sign * compareKeys(key(a), key(b)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function build(
  store: KalphiteStore<Comment>,
  spec: QuerySpec,
): LiveQuery<Comment> | LiveWindow<Comment> {
  let query = store.comment.live.where(spec.filter);
  if (spec.key !== undefined) query = query.orderBy(spec.key, spec.direction);
  if (spec.window) return query.window(spec.offset ?? 0, spec.limit ?? 0);
  if (spec.offset !== undefined) query = query.offset(spec.offset);
  if (spec.limit !== undefined) query = query.limit(spec.limit);
  return query;
}

/** The rows a spec shows of the full result. */
function visibleOf(spec: QuerySpec, full: Comment[]): Comment[] {
  const offset = spec.offset ?? 0;
  return full.slice(offset, offset + (spec.limit ?? Number.POSITIVE_INFINITY));
}

function same(a: readonly Comment[], b: readonly Comment[]): boolean {
  return a.length === b.length && a.every((row, i) => row === b[i]);
}

function describeRows(rows: readonly Comment[]): string {
  return rows.map((r) => r.id).join(",");
}

/** One live query under test, and what its subscribers have seen. */
class Harness {
  readonly query: LiveQuery<Comment> | LiveWindow<Comment>;
  /** `first()` of the query, checked in every step. */
  readonly first: LiveValue<Comment | undefined> | undefined;
  notifications = 0;
  lastSeen: Comment[] | undefined;
  mirror: Comment[] | undefined;
  #stop: (() => void) | undefined;

  readonly spec: QuerySpec;

  constructor(spec: QuerySpec, store: KalphiteStore<Comment>) {
    this.spec = { ...spec };
    this.query = build(store, spec);
    this.first = "first" in this.query ? this.query.first() : undefined;
    if (spec.mode !== "read" && spec.mode !== "toggle") this.start();
  }

  get subscribed(): boolean {
    return this.#stop !== undefined;
  }

  start(): void {
    const { mode } = this.spec;
    this.notifications = 0;
    if (mode === "effect") {
      this.#stop = effect(() => {
        this.notifications++;
        this.lastSeen = this.query.value;
      });
    } else if (mode === "changes") {
      this.mirror = naiveFull(this);
      this.#stop = (this.query as LiveQuery<Comment>).subscribeChanges((change) => {
        if (change.oldIndex !== -1) this.mirror!.splice(change.oldIndex, 1);
        if (change.newIndex !== -1) this.mirror!.splice(change.newIndex, 0, change.entity!);
      });
    } else {
      this.#stop = this.query.subscribe((rows) => {
        this.notifications++;
        this.lastSeen = rows;
      });
    }
  }

  stop(): void {
    this.#stop?.();
    this.#stop = undefined;
    this.lastSeen = undefined;
    this.mirror = undefined;
  }

  toggle(): void {
    if (this.subscribed) this.stop();
    else {
      this.start();
      if (this.notifications !== 1)
        throw new Error(`${this.spec.name}: ${this.notifications} initial runs`);
    }
  }
}

let currentModel: Map<string, Comment> = new Map();
function naiveFull(harness: Harness): Comment[] {
  return naive(harness.spec, currentModel);
}

const ids = Array.from({ length: 24 }, (_, i) => `c${i}`);
const upsertArb = fc.record({
  kind: fc.constant("upsert" as const),
  id: fc.constantFrom(...ids),
  lineNumber: fc.integer({ min: 0, max: 12 }),
  status: fc.constantFrom("open" as const, "resolved" as const),
  body: fc.constantFrom("alpha", "beta", "gamma", "Delta", ""),
  updatedAt: fc.integer({ min: 0, max: 6 }),
});
const deleteArb = fc.record({ kind: fc.constant("delete" as const), id: fc.constantFrom(...ids) });
const writeArb: fc.Arbitrary<Write> = fc.oneof(
  { weight: 3, arbitrary: upsertArb },
  { weight: 2, arbitrary: deleteArb },
);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: writeArb },
  { weight: 2, arbitrary: batchOf(writeArb, 6) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("upsertMany" as const),
      writes: fc.array(upsertArb, { maxLength: 6 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("deleteMany" as const),
      ids: fc.array(fc.constantFrom(...ids), { maxLength: 6 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("toggle" as const),
      query: fc.integer({ min: 0, max: specs.length - 1 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("move" as const),
      query: fc.integer({ min: 0, max: specs.length - 1 }),
      offset: fc.integer({ min: 0, max: 26 }),
      count: fc.integer({ min: 0, max: 8 }),
    }),
  },
);

function toComment(write: Extract<Write, { kind: "upsert" }>): Comment {
  return comment(
    write.id,
    { lineNumber: write.lineNumber, status: write.status, body: write.body },
    write.updatedAt,
  );
}

function run(store: KalphiteStore<Comment>, model: Map<string, Comment>, write: Write): void {
  if (write.kind === "upsert")
    model.set(write.id, store.comment.upsert(write.id, toComment(write)));
  else {
    const existed = store.comment.delete(write.id);
    if (existed !== model.delete(write.id))
      throw new Error(`delete(${write.id}) returned ${existed}`);
  }
}

function check(
  store: KalphiteStore<Comment>,
  model: Map<string, Comment>,
  harnesses: Harness[],
  before: Comment[][],
  label: string,
) {
  const storeIds = store.comment.map((c) => c.id).join(",");
  const modelIds = [...model.keys()].join(",");
  if (storeIds !== modelIds)
    throw new Error(`${label}: collection [${storeIds}] != model [${modelIds}]`);
  harnesses.forEach((harness, i) => {
    const { spec } = harness;
    const full = naive(spec, model);
    const visible = visibleOf(spec, full);
    const changed = !same(before[i]!, visible);
    if (harness.subscribed && spec.mode !== "changes") {
      const expectedRuns = changed ? 1 : 0;
      if (harness.notifications !== expectedRuns) {
        throw new Error(
          `${label}: "${spec.name}" notified ${harness.notifications}x, expected ${expectedRuns}x`,
        );
      }
      if (!same(harness.lastSeen!, visible)) {
        throw new Error(
          `${label}: "${spec.name}" subscriber saw [${describeRows(harness.lastSeen!)}], expected [${describeRows(visible)}]`,
        );
      }
    }
    if (harness.mirror && !same(harness.mirror, full)) {
      throw new Error(
        `${label}: "${spec.name}" diffs gave [${describeRows(harness.mirror)}], expected [${describeRows(full)}]`,
      );
    }
    const value = harness.query.value;
    if (!same(value, visible)) {
      throw new Error(
        `${label}: "${spec.name}" is [${describeRows(value)}], expected [${describeRows(visible)}]`,
      );
    }
    if (harness.first && harness.first.value !== visible[0]) {
      throw new Error(`${label}: "${spec.name}" first() is ${harness.first.value?.id}`);
    }
    if ("total" in harness.query && harness.query.total !== full.length) {
      throw new Error(`${label}: "${spec.name}" total ${harness.query.total} != ${full.length}`);
    }
    harness.notifications = 0;
    before[i] = visible;
  });
}

function scenario(steps: Step[], initial: Extract<Write, { kind: "upsert" }>[], bulk = 0): void {
  const store = KalphiteStore(Entity) as unknown as KalphiteStore<Comment>;
  const model = new Map<string, Comment>();
  currentModel = model;
  // `bulk` extra rows make the sorted indexes span several chunks (256 rows each), so splits
  // and cross-chunk positions are exercised too.
  const extra = Array.from({ length: bulk }, (_, i) =>
    comment(
      `bulk${i}`,
      { lineNumber: i % 13, status: i % 2 ? "open" : "resolved", body: `b${i % 7}` },
      i % 5,
    ),
  );
  for (const c of store.comment.upsertMany([...extra, ...initial.map(toComment)]))
    model.set(c.id, c);
  const harnesses = specs.map((spec) => new Harness(spec, store));
  for (const harness of harnesses) {
    const expected = harness.subscribed && harness.spec.mode !== "changes" ? 1 : 0;
    if (harness.notifications !== expected) {
      throw new Error(
        `"${harness.spec.name}": ${harness.notifications} initial runs, expected ${expected}`,
      );
    }
    harness.notifications = 0;
  }
  const before = harnesses.map((harness) => visibleOf(harness.spec, naive(harness.spec, model)));
  check(store, model, harnesses, before, "start");
  steps.forEach((step, n) => {
    const label = `step ${n} ${JSON.stringify(step)}`;
    switch (step.kind) {
      case "batch":
        store.batch(() => {
          for (const write of step.writes) run(store, model, write);
        });
        break;
      case "upsertMany":
        for (const c of store.comment.upsertMany(step.writes.map(toComment))) model.set(c.id, c);
        break;
      case "deleteMany": {
        const expected = new Set(step.ids.filter((id) => model.has(id))).size;
        for (const id of step.ids) model.delete(id);
        const deleted = store.comment.deleteMany(step.ids);
        if (deleted !== expected)
          throw new Error(`${label}: deleteMany returned ${deleted}, expected ${expected}`);
        break;
      }
      case "move": {
        const harness = harnesses[step.query]!;
        if (!harness.spec.window) return;
        (harness.query as LiveWindow<Comment>).moveTo(step.offset, step.count);
        harness.spec.offset = step.offset;
        harness.spec.limit = step.count;
        break;
      }
      case "toggle": {
        const harness = harnesses[step.query]!;
        if (harness.spec.mode !== "toggle") return;
        harness.toggle();
        harness.notifications = 0;
        break;
      }
      default:
        run(store, model, step);
    }
    check(store, model, harnesses, before, label);
  });
  for (const harness of harnesses) harness.stop();
}

describe("live queries against a naive filter + sort after every step", () => {
  it("agree through random upserts, deletes, batches and (un)subscriptions", () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 200, maxLength: 400 }),
        fc.array(upsertArb, { maxLength: 10 }),
        (steps, initial) => scenario(steps, initial),
      ),
      { numRuns: 120 },
    );
  });

  it("agree when the indexes span many chunks", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 100, maxLength: 200 }), (steps) =>
        scenario(steps, [], 1300),
      ),
      { numRuns: 4 },
    );
  });
});
