// What Kalphite's guarantees cost, in a process of their own: the plainest loop that validates
// every write (arktype) and keeps its own frozen, storable copy of every entity (the store's own
// validateEntity), puts it in a Map and wakes the one subscriber of the entity through a signal,
// against the floor's plain Map.set in the same process. Whatever Kalphite costs beyond that loop
// is its own structure.
import { effect, signal } from "@preact/signals-core";
import { cloneJsonLike, validateEntity } from "../../src/core/schema.js";
import { Entity } from "../../test/fixtures/schema.js";
import { heapUsed, MAX_STEPS, makeUpdates, medianMs, perUpdateMicros } from "./harness.js";
import type { Comment } from "./workload.js";

export interface GuaranteeCosts {
  /** ms to load N entities: a plain Map fill, and validate + copy + Map fill. */
  load: { floor: number; guaranteed: number };
  /** µs per update: Map.set + a listener call, and validate + copy + Map.set + signal write. */
  update: { floor: number; guaranteed: number };
}

export function guaranteeCosts(rows: readonly Comment[]): GuaranteeCosts {
  // Validation, the frozen copy and the check that every string can be stored, as the store does.
  const guarded = (value: Comment): Comment =>
    validateEntity(Entity, value, "comment", value.id) as Comment;
  let kept: unknown;
  const loadMs = (fill: (map: Map<string, Comment>, row: Comment) => void): number => {
    const run = () => {
      const map = new Map<string, Comment>();
      for (const row of rows) fill(map, row);
      kept = map;
    };
    const warmStart = performance.now();
    do run();
    while (performance.now() - warmStart < 500);
    return medianMs(run, 9, 3000, 3, heapUsed);
  };
  const load = {
    floor: loadMs((map, row) => map.set(row.id, row)),
    guaranteed: loadMs((map, row) => {
      const entity = guarded(row);
      map.set(entity.id, entity);
    }),
  };
  kept = undefined;

  // Updates as in the entity-subscription workload: the first 10,000 entities, one subscriber each.
  const stream = makeUpdates(rows, MAX_STEPS, 10_000, 11);
  const watched = rows.slice(0, 10_000);
  const plain = new Map(rows.map((row) => [row.id, row]));
  let calls = 0;
  const listeners = new Map(watched.map((row) => [row.id, () => void calls++]));
  const floor = perUpdateMicros(stream, (c) => {
    plain.set(c.id, c);
    listeners.get(c.id)?.();
  }).micros;
  const copies = new Map(rows.map((row) => [row.id, cloneJsonLike(row)]));
  const signals = new Map(watched.map((row) => [row.id, signal(row)]));
  const stops = [...signals.values()].map((s) => effect(() => void s.value));
  const guaranteed = perUpdateMicros(stream, (c) => {
    const entity = guarded(c);
    copies.set(entity.id, entity);
    const entitySignal = signals.get(entity.id);
    if (entitySignal !== undefined) entitySignal.value = entity;
  }).micros;
  for (const stop of stops) stop();
  void kept;
  return { load, update: { floor, guaranteed } };
}
