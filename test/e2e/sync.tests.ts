/**
 * The demo's sync between windows: live edits, an offline edit racing an online one, a reload
 * with an unsent change, a restart of the sync server.
 */
import { assert, eventually, eventuallyEqual } from "./harness.js";
import { test } from "./registry.js";
import type { CommentState } from "./review-page.js";

/** The comments a page shows, in a form two pages can be compared by. */
function snapshot(comments: CommentState[]): string {
  return JSON.stringify(comments.map((c) => [c.body, c.status, c.updatedAt]).sort());
}

/** The version the last-write-wins strategy keeps. */
function lastWriteWinner<T extends CommentState & { user: string }>(a: T, b: T): T {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt > b.updatedAt ? a : b;
  return a.user > b.user ? a : b;
}

test("a comment added in one window appears in the other, and a resolve there shows here", async (t) => {
  const room = "live";
  const [ada, grace] = await Promise.all([
    t.open(await t.newContext(), room, "ada"),
    t.open(await t.newContext(), room, "grace"),
  ]);
  await ada.waitForConnection("connected");
  await grace.waitForConnection("connected");

  const body =
    "The loop sleeps after the last attempt too: skip the sleep when attempt === retries.";
  await ada.addComment(19, body);
  await grace.waitForComment(body);
  await eventuallyEqual("grace: open comments", () => grace.countOf("open"), 1);

  await grace.resolve(body);
  await ada.waitForStatus(body, "resolved");
  await eventuallyEqual("ada: resolved comments", () => ada.countOf("resolved"), 1);
  await eventuallyEqual("ada: open comments", () => ada.countOf("open"), 0);

  await grace.page.getByRole("button", { name: "Approve" }).click();
  await eventuallyEqual(
    "ada: grace's verdict",
    () =>
      ada.page
        .locator('[data-testid=reviewers] li[data-author="grace"]')
        .getAttribute("data-verdict"),
    "approve",
  );

  await ada.waitForOutbox((n) => n === 0, "to be empty");
  await grace.waitForOutbox((n) => n === 0, "to be empty");
  await ada.addComment(
    20,
    "Abort is only checked between attempts; pass the signal to sleep() as well.",
  );
  await grace.waitForComment("Abort is only checked");
  await ada.waitForOutbox((n) => n === 0, "to be empty");
  await ada.waitForSavedLocally();
  await ada.screenshot("a-live-ada");
  await grace.screenshot("a-live-grace");
});

test("an offline edit and a concurrent online edit of one comment converge on the strategy's pick", async (t) => {
  const room = "conflict";
  const adaContext = await t.newContext();
  const [ada, grace] = await Promise.all([
    t.open(adaContext, room, "ada"),
    t.open(await t.newContext(), room, "grace"),
  ]);
  await ada.waitForConnection("connected");
  await grace.waitForConnection("connected");

  await ada.addComment(27, "Add jitter to the delay.");
  await grace.waitForComment("Add jitter");

  await adaContext.setOffline(true);
  await ada.waitForConnection("disconnected");
  await ada.edit("Add jitter", "Add full jitter: Math.random() * delay.");
  await ada.waitForOutbox((n) => n > 0, "to hold the offline edit");

  await grace.edit("Add jitter", "Add jitter, and cap the delay at maxDelayMs before it.");
  await grace.waitForOutbox((n) => n === 0, "to be acknowledged");
  const [mine] = await ada.comments();
  const [theirs] = await grace.comments();
  assert(mine && theirs, "both windows show the comment");

  // Last write wins: the later updatedAt, a tie going to the larger user id. Grace edited last.
  const expected = lastWriteWinner({ ...mine, user: "ada" }, { ...theirs, user: "grace" });
  assert(expected.user === "grace", "grace's edit is the later one");

  await adaContext.setOffline(false);
  await ada.waitForConnection("connected");
  await ada.waitForOutbox((n) => n === 0, "to be sent");
  await eventuallyEqual("ada: the comment", async () => (await ada.comments()).map((c) => c.body), [
    expected.body,
  ]);
  await eventuallyEqual(
    "grace: the comment",
    async () => (await grace.comments()).map((c) => c.body),
    [expected.body],
  );
  await eventuallyEqual(
    "both windows: the same comment",
    async () => snapshot(await ada.comments()),
    snapshot(await grace.comments()),
  );
  const notice = ada.page.getByTestId("conflict-notice");
  await notice.waitFor();
  assert((await notice.getAttribute("data-won")) === "false", "ada is told her edit was replaced");
  await ada.screenshot("b-conflict-ada");
  await grace.screenshot("b-conflict-grace");
});

test("a reload keeps every comment, also an unsent one, which is sent after the reload", async (t) => {
  const room = "reload";
  const adaContext = await t.newContext();
  const sync = await t.syncSwitch();
  const [ada, grace] = await Promise.all([
    t.open(adaContext, room, "ada", sync.url),
    t.open(await t.newContext(), room, "grace"),
  ]);
  await ada.waitForConnection("connected");

  await ada.addComment(10, "Name the magic 2 in the backoff.");
  await grace.waitForComment("magic 2");

  // Offline, and the sync server still unreachable once the network is back: the comment stays
  // unsent, across the reload, until the server can be reached again.
  sync.block();
  await adaContext.setOffline(true);
  await ada.waitForConnection("disconnected");
  await ada.addComment(38, "429 is retryable only with a Retry-After; read it.");
  await ada.waitForOutbox((n) => n === 1, "to hold the unsent comment");
  await ada.waitForSavedLocally();
  await adaContext.setOffline(false);

  await ada.reload();
  await ada.waitForComment("magic 2");
  await ada.waitForComment("Retry-After");
  await ada.waitForOutbox((n) => n === 1, "to still hold the unsent comment after the reload");
  assert((await ada.connection()) !== "connected", "the sync server is still out of ada's reach");
  assert(
    !(await grace.bodies()).some((b) => b.includes("Retry-After")),
    "the unsent comment has not reached the other window before the reload",
  );
  await ada.screenshot("c-reload-ada-unsent");

  sync.unblock();
  await ada.waitForConnection("connected");
  await ada.waitForOutbox((n) => n === 0, "to be sent after the reload");
  await grace.waitForComment("Retry-After");

  await grace.reload();
  await eventuallyEqual(
    "grace after a reload: the comments",
    () => grace.bodies(),
    await ada.bodies(),
  );
  await ada.screenshot("c-reload-ada");
  await grace.screenshot("c-reload-grace");
});

test("the sync server restarts in the middle: clients reconnect and nothing is lost", async (t) => {
  const room = "restart";
  const [ada, grace] = await Promise.all([
    t.open(await t.newContext(), room, "ada"),
    t.open(await t.newContext(), room, "grace"),
  ]);
  await ada.waitForConnection("connected");
  await grace.waitForConnection("connected");
  await ada.addComment(33, "Log the error itself, not only the attempt number.");
  await grace.waitForComment("Log the error");

  await t.restartServer(async () => {
    await eventually(
      "ada to notice the server is gone",
      () => ada.connection(),
      (s) => s !== "connected",
    );
    await eventually(
      "grace to notice the server is gone",
      () => grace.connection(),
      (s) => s !== "connected",
    );
    await ada.addComment(37, "Throw an AggregateError with every attempt's error?");
    await grace.resolve("Log the error");
    await ada.waitForOutbox((n) => n > 0, "to hold the comment made while the server is down");
    await grace.waitForOutbox((n) => n > 0, "to hold the resolve made while the server is down");
    await ada.screenshot("d-restart-ada-offline");
  });

  await ada.waitForConnection("connected", 45_000);
  await grace.waitForConnection("connected", 45_000);
  await ada.waitForOutbox((n) => n === 0, "to be sent after the restart");
  await grace.waitForOutbox((n) => n === 0, "to be sent after the restart");
  await grace.waitForComment("AggregateError");
  await ada.waitForStatus("Log the error", "resolved");

  // A new window loads everything from the restarted server alone.
  const lin = await t.open(await t.newContext(), room, "lin");
  await lin.waitForConnection("connected");
  await eventuallyEqual(
    "lin: the comments",
    async () => snapshot(await lin.comments()),
    snapshot(await ada.comments()),
  );
  await eventuallyEqual(
    "grace: the comments",
    async () => snapshot(await grace.comments()),
    snapshot(await ada.comments()),
  );
  await ada.screenshot("d-restart-ada");
  await lin.screenshot("d-restart-new-window");
});
