/**
 * Kalphite's core store, end to end: run with `npm start` or
 * `node --import tsx examples/basic/main.ts`.
 */
import { effect } from "@preact/signals-core";
import { type } from "arktype";
import { KalphiteStore, KalphiteUsageError, KalphiteValidationError } from "kalphite";

// 1. Describe the entities with any Standard Schema (arktype here; zod and valibot work too).
const Entity = type({
  id: "string",
  type: "'comment'",
  updatedAt: "number",
  data: { body: "string", lineNumber: "number", status: "'open'|'resolved'" },
}).or({
  id: "string",
  type: "'review'",
  updatedAt: "number",
  data: { title: "string" },
});
type Comment = Extract<typeof Entity.infer, { type: "comment" }>;

const store = KalphiteStore(Entity);

function newComment(id: string, lineNumber: number, body: string): Comment {
  return { id, type: "comment", updatedAt: Date.now(), data: { body, lineNumber, status: "open" } };
}

function resolved(comment: Comment): Comment {
  return { ...comment, updatedAt: Date.now(), data: { ...comment.data, status: "resolved" } };
}

function section(title: string): void {
  console.log(`\n── ${title} ${"─".repeat(Math.max(0, 60 - title.length))}`);
}

// 2. The change stream: every write, with its origin. Persistence and sync build on it.
store.onChange((change) => {
  console.log(
    `  change: ${change.operation} ${change.entityType}/${change.entityId} (${change.origin})`,
  );
});

section("Writes are synchronous and validated");
store.comment.upsert("c1", newComment("c1", 12, "Typo in the README"));
store.comment.upsertMany([
  newComment("c2", 140, "This loop is quadratic"),
  newComment("c3", 7, "Missing null check"),
]);
store.review.upsert("r1", {
  id: "r1",
  type: "review",
  updatedAt: Date.now(),
  data: { title: "First pass" },
});
console.log(`comments: ${store.comment.length}, reviews: ${store.review.length}`);

try {
  store.comment.upsert("c4", { ...newComment("c4", 1, "x"), data: { body: 1 } } as never);
} catch (error) {
  if (error instanceof KalphiteValidationError) {
    console.log(`rejected: ${error.message} (${error.issues.length} issues; nothing changed)`);
  }
}

section("A collection is a real array");
console.log(
  "ids:",
  store.comment.map((c) => c.id),
);
console.log("first:", store.comment[0]?.data.body);
console.log("Array.isArray:", Array.isArray(store.comment));
console.log("JSON:", JSON.stringify(store.comment.slice(0, 1)));
try {
  (store.comment as unknown as Comment[]).push(newComment("c9", 1, "no"));
} catch (error) {
  if (error instanceof KalphiteUsageError) console.log("push refused:", error.message);
}

section("Queries");
console.log(
  "line > 10:",
  store.comment.where((c) => c.data.lineNumber > 10).map((c) => c.id),
);
console.log(
  "by line, desc:",
  store.comment.orderBy("data.lineNumber", "desc").map((c) => c.id),
);
const byStatus = store.comment.groupBy((c) => c.data.status);
console.log("open:", byStatus.open?.length ?? 0, "resolved:", byStatus.resolved?.length ?? 0);

section("Fine-grained reactivity");
const stopWatching = effect(() => {
  console.log(`  effect: c3 is "${store.comment.findById("c3")?.data.status}"`);
});
// Entities are immutable values: write a new version rather than changing the stored one.
store.comment.upsert("c1", resolved(store.comment.findById("c1")!));
console.log("  (resolving c1 did not re-run the effect that reads c3)");
store.comment.upsert("c3", resolved(store.comment.findById("c3")!));
stopWatching();

section("Live queries: incremental, notified only when the visible rows change");
const openByLine = store.comment.live
  .where((c) => c.data.status === "open")
  .orderBy((c) => c.data.lineNumber)
  .limit(2);
const stopLive = openByLine.subscribe((rows) => {
  console.log(
    "  open, by line:",
    rows.map((c) => `${c.id}@${c.data.lineNumber}`).join(", ") || "(none)",
  );
});
store.comment.upsert("c5", newComment("c5", 3, "Unused import"));
store.comment.upsert("c6", newComment("c6", 900, "Far away: outside the limit, no notification"));
store.comment.delete("c5");
stopLive();

section("Batches: one notification for many writes");
const stopSubscribe = store.subscribe((changes) =>
  console.log(`  subscribe: ${changes.length} changes`),
);
store.batch(() => {
  for (let i = 10; i < 15; i++) store.comment.upsert(`c${i}`, newComment(`c${i}`, i, `Note ${i}`));
  store.comment.deleteMany(["c10", "c11"]);
});
stopSubscribe();

section("Changes from elsewhere carry their origin");
store.apply(
  [
    {
      operation: "upsert",
      entityType: "comment",
      entityId: "c20",
      entity: newComment("c20", 1, "From a teammate"),
    },
  ],
  "remote",
);
console.log("delete c20:", store.comment.delete("c20"), "again:", store.comment.delete("c20"));

console.log(`\nDone: ${store.comment.length} comments, ${store.review.length} review.`);
