import { effect } from "@preact/signals-core";
import fc from "fast-check";
import { describe, it } from "vitest";
import { type AggregateHelpers, compareKeys, KalphiteStore } from "../../src/core/index.js";
import { type Comment, comment, Entity } from "../fixtures/schema.js";
import { batchOf } from "./support/batches.js";

/**
 * Aggregates against a naive recompute after every step of random writes: grouped and whole,
 * with having, subscribed, unsubscribed and toggled, and one group watched alone.
 */

type Write =
  | { kind: "upsert"; id: string; line: number; open: boolean; body: string; at: number }
  | { kind: "delete"; id: string };
type Step = Write | { kind: "batch"; writes: Write[] } | { kind: "toggle" };

const ids = Array.from({ length: 16 }, (_, i) => `c${i}`);
const upsert = fc.record({
  kind: fc.constant("upsert" as const),
  id: fc.constantFrom(...ids),
  line: fc.integer({ min: -3, max: 9 }),
  open: fc.boolean(),
  body: fc.constantFrom("a", "b", "c", "D"),
  at: fc.integer({ min: 0, max: 5 }),
});
const write: fc.Arbitrary<Write> = fc.oneof(
  { weight: 3, arbitrary: upsert },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("delete" as const), id: fc.constantFrom(...ids) }),
  },
);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 10, arbitrary: write },
  { weight: 2, arbitrary: batchOf(write, 5) },
  { weight: 1, arbitrary: fc.constant({ kind: "toggle" as const }) },
);

/** What every aggregation computes, naively over a list of rows. */
function naiveAggregates(rows: Comment[]) {
  const byKey = (key: (c: Comment) => unknown) =>
    rows
      .filter((c) => key(c) !== undefined && key(c) !== null)
      .sort((a, b) => compareKeys(key(a), key(b)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const byAt = byKey((c) => c.updatedAt);
  const byBody = byKey((c) => c.data.body);
  const lines = rows.map((c) => c.data.lineNumber);
  return {
    n: rows.length,
    lines: lines.reduce((a, b) => a + b, 0),
    meanAt: rows.length === 0 ? undefined : rows.reduce((a, c) => a + c.updatedAt, 0) / rows.length,
    minBody: byBody[0]?.data.body,
    maxAt: byAt[byAt.length - 1]?.updatedAt,
    first: byBody[0],
    latest: byAt[byAt.length - 1],
  };
}
type Result = ReturnType<typeof naiveAggregates>;

function sameResult(a: Result | undefined, b: Result | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (Object.keys(b) as (keyof Result)[]).every((k) => Object.is(a[k], b[k]));
}

const lineGroup = (c: Comment) => ((c.data.lineNumber % 3) + 3) % 3;
const open = (c: Comment) => c.data.status === "open";

function scenario(steps: Step[]): void {
  const store = KalphiteStore(Entity) as unknown as KalphiteStore<Comment>;
  const model = new Map<string, Comment>();
  const build = ({ count, sum, avg, min, max, minBy, maxBy }: AggregateHelpers<Comment>) => ({
    n: count(),
    lines: sum("data.lineNumber"),
    meanAt: avg((c) => c.updatedAt),
    minBody: min("data.body"),
    maxAt: max("updatedAt"),
    first: minBy("data.body"),
    latest: maxBy((c) => c.updatedAt),
  });
  const grouped = store.comment.live.where(open).groupBy(lineGroup).aggregate(build);
  const busy = grouped.having((r) => r.n >= 2);
  const whole = store.comment.live.aggregate(build);
  const groupOne = grouped.group(1);
  let seenGrouped: unknown;
  let seenWhole: unknown;
  let seenOne: unknown;
  let runsOne = 0;
  let lastOne: Result | undefined;
  const stops = [
    busy.subscribe((v) => {
      seenGrouped = v;
    }),
    effect(() => {
      seenOne = groupOne.value;
      runsOne++;
    }),
  ];
  let stopWhole: (() => void) | undefined = whole.subscribe((v) => {
    seenWhole = v;
  });

  const run = (w: Write) => {
    if (w.kind === "upsert") {
      const c = comment(
        w.id,
        { lineNumber: w.line, status: w.open ? "open" : "resolved", body: w.body },
        w.at,
      );
      model.set(w.id, store.comment.upsert(w.id, c));
    } else {
      store.comment.delete(w.id);
      model.delete(w.id);
    }
  };
  steps.forEach((s, n) => {
    if (s.kind === "batch") store.batch(() => s.writes.forEach(run));
    else if (s.kind === "toggle") {
      if (stopWhole) {
        stopWhole();
        stopWhole = undefined;
      } else
        stopWhole = whole.subscribe((v) => {
          seenWhole = v;
        });
    } else run(s);
    const label = `step ${n} ${JSON.stringify(s)}`;
    const rows = [...model.values()];
    const expectedWhole = naiveAggregates(rows);
    const groups = new Map<string, Comment[]>();
    for (const c of rows.filter(open)) {
      const g = String(lineGroup(c));
      groups.set(g, [...(groups.get(g) ?? []), c]);
    }
    const check = (name: string, actual: unknown, expected: Result | undefined) => {
      if (!sameResult(actual as Result | undefined, expected)) {
        throw new Error(
          `${label}: ${name} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`,
        );
      }
    };
    check("whole", whole.value, expectedWhole);
    if (stopWhole) check("whole (subscriber)", seenWhole, expectedWhole);
    const actualGroups = grouped.value as Record<string, Result>;
    const shown = busy.value as Record<string, Result>;
    const names = [...groups.keys()].sort();
    if (Object.keys(actualGroups).sort().join() !== names.join()) {
      throw new Error(`${label}: groups ${Object.keys(actualGroups)} != ${names}`);
    }
    for (const name of names) {
      const expected = naiveAggregates(groups.get(name)!);
      check(`group ${name}`, actualGroups[name], expected);
      check(`having group ${name}`, shown[name], expected.n >= 2 ? expected : undefined);
    }
    if (seenGrouped !== shown) throw new Error(`${label}: the subscriber saw an older record`);
    const one = groups.get("1");
    const expectedOne = one ? naiveAggregates(one) : undefined;
    check("group(1)", seenOne, expectedOne);
    // Its watcher runs exactly when its aggregates changed (n > 0: the first run).
    const changed = !sameResult(lastOne, expectedOne);
    if (n > 0 && runsOne !== (changed ? 1 : 0)) {
      throw new Error(`${label}: group(1)'s watcher ran ${runsOne}x, expected ${changed ? 1 : 0}x`);
    }
    runsOne = 0;
    lastOne = expectedOne;
  });
  for (const stop of stops) stop();
  stopWhole?.();
}

describe("live aggregates against a naive recompute after every step", () => {
  it("agree through random upserts, deletes, batches and (un)subscriptions", () => {
    fc.assert(fc.property(fc.array(step, { minLength: 50, maxLength: 200 }), scenario), {
      numRuns: 150,
    });
  });
});
