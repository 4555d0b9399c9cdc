/**
 * Browser tests of the code-review demo: the server `npm start` runs, driven in Debian's
 * Chromium through playwright-core. `npm run test:e2e`; prints `N passed, M failed`.
 *
 * Every test uses its own room and fresh browser contexts (each with its own IndexedDB, so its
 * own PGlite; two tabs of one browser are two pages of one context), and waits on page
 * conditions, never on fixed delays.
 */
import { mkdirSync } from "node:fs";
import type { Browser, BrowserContext } from "playwright-core";
import {
  AssertionError,
  assert,
  type DemoServer,
  eventually,
  eventuallyEqual,
  launchBrowser,
  removeDir,
  screenshotDir,
  startServer,
  syncSwitch,
  TIMEOUT,
  tempDataDir,
} from "./harness.js";
import { type CommentState, ReviewPage } from "./review-page.js";
import { openWriter } from "./writer.js";

interface TestContext {
  browser: Browser;
  server: DemoServer;
  /** Replaces the running server by a new one on the same port and data directory. */
  restartServer(during?: () => Promise<void>): Promise<DemoServer>;
  /** A fresh browser context, closed after the test. */
  newContext(): Promise<BrowserContext>;
  /** Pages opened in the test: their uncaught errors fail it. */
  pages: ReviewPage[];
  open(context: BrowserContext, room: string, user: string): Promise<ReviewPage>;
}

type Test = { name: string; run(t: TestContext): Promise<void> };

const tests: Test[] = [];
function test(name: string, run: (t: TestContext) => Promise<void>): void {
  tests.push({ name, run });
}

/** The comments a page shows, in a form two pages can be compared by. */
function snapshot(comments: CommentState[]): string {
  return JSON.stringify(comments.map((c) => [c.body, c.status, c.updatedAt]).sort());
}

/** The version the last-write-wins strategy keeps. */
function lastWriteWinner<T extends CommentState & { user: string }>(a: T, b: T): T {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt > b.updatedAt ? a : b;
  return a.user > b.user ? a : b;
}

// ---------------------------------------------------------------------------------------------

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
  const sync = await syncSwitch(adaContext);
  const [ada, grace] = await Promise.all([
    t.open(adaContext, room, "ada"),
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

test("a second tab of the same room and user works in memory only and overwrites nothing", async (t) => {
  const room = "two-tabs";
  // One browser context: the two tabs share IndexedDB (one database for the room and user).
  const context = await t.newContext();
  const sync = await syncSwitch(context);
  const first = await t.open(context, room, "ada");
  await first.waitForConnection("connected");
  await first.addComment(12, "A: the first tab, alone.");
  await first.waitForSavedLocally();

  const second = await t.open(context, room, "ada");
  await second.tabNotice().waitFor({ timeout: TIMEOUT });
  await second.screenshot("e-two-tabs-notice");
  assert(
    (await second.tabNotice().textContent())?.includes("open in another tab as ada"),
    "the notice names the other tab's user",
  );
  assert(!(await first.showsTabNotice()), "the first tab keeps the database and shows no notice");
  await eventuallyEqual(
    "second tab: its storage",
    () => second.page.getByTestId("local-save").getAttribute("data-saved"),
    "false",
  );

  // Both tabs work and sync live: the second one learns A from the server.
  await second.waitForConnection("connected");
  await second.waitForComment("A: the first tab");
  await second.addComment(14, "B: the second tab.");
  await first.waitForComment("B: the second tab");
  await first.addComment(16, "C: the first tab, with the second open.");
  await second.waitForComment("C: the first tab");
  await first.waitForOutbox((n) => n === 0, "to be empty");
  await second.waitForOutbox((n) => n === 0, "to be empty");
  await first.waitForSavedLocally();

  // Offline, each tab makes a change the other cannot know. A second PGlite on the same
  // IndexedDB database would now write its copy over the first tab's, without D.
  sync.block();
  await context.setOffline(true);
  await first.waitForConnection("disconnected");
  await second.waitForConnection("disconnected");
  await first.addComment(18, "D: the first tab, offline.");
  await second.addComment(20, "E: the second tab, offline.");
  await first.waitForOutbox((n) => n === 1, "to hold D");
  await second.waitForOutbox((n) => n === 1, "to hold E");
  await first.waitForSavedLocally();
  await second.screenshot("e-two-tabs-second");
  await context.setOffline(false);

  // The server stays out of reach: what the reloaded first tab shows is its own database.
  await first.reload();
  assert(!(await first.showsTabNotice()), "the reloaded first tab has the database again");
  await eventuallyEqual("first tab after a reload: the comments", () => first.bodies(), [
    "A: the first tab, alone.",
    "B: the second tab.",
    "C: the first tab, with the second open.",
    "D: the first tab, offline.",
  ]);
  await first.waitForOutbox((n) => n === 1, "to still hold D after the reload");
  assert((await first.connection()) !== "connected", "the sync server is out of reach");
  assert(await second.showsTabNotice(), "the second tab still works in memory only");

  sync.unblock();
  await first.waitForConnection("connected");
  await first.waitForOutbox((n) => n === 0, "to send D");
  // The second tab's WebSocket was closed by the offline period; it reconnects on its own.
  await second.waitForConnection("connected", 45_000);
  await second.waitForOutbox((n) => n === 0, "to send E");
  await first.waitForComment("E: the second tab");
  await second.waitForComment("D: the first tab");
  await eventuallyEqual(
    "both tabs: the same comments",
    async () => snapshot(await second.comments()),
    snapshot(await first.comments()),
  );
  await first.screenshot("e-two-tabs-first");
});

test("closing the tab that has the database lets a reloaded second tab take it", async (t) => {
  const room = "tab-handover";
  const context = await t.newContext();
  const sync = await syncSwitch(context);
  const first = await t.open(context, room, "grace");
  await first.waitForConnection("connected");
  await first.addComment(22, "F: saved by the first tab.");
  await first.waitForSavedLocally();
  const second = await t.open(context, room, "grace");
  await second.tabNotice().waitFor({ timeout: TIMEOUT });
  await second.waitForComment("F: saved by the first tab");

  await first.page.close();
  // Without the server: the reloaded tab shows F from the database it now has.
  sync.block();
  await second.reload();
  assert(!(await second.showsTabNotice()), "the reloaded second tab has the database");
  await second.waitForComment("F: saved by the first tab");
  assert((await second.connection()) !== "connected", "the sync server is out of reach");
  await second.addComment(24, "G: saved by the second tab.");
  await second.waitForSavedLocally();

  sync.unblock();
  await second.waitForConnection("connected");
  await second.waitForOutbox((n) => n === 0, "to send G");
  await second.screenshot("f-tab-handover");
});

test("one changed comment re-renders one card, not every card, here and in another window", async (t) => {
  const room = "renders";
  const lin = await openWriter(t.server.url, room, "lin");
  try {
    const ids = await lin.addComments(400, 40);
    const ada = await t.open(await t.newContext(), room, "ada");
    await ada.waitForConnection("connected");
    await eventuallyEqual("ada: open comments", () => ada.countOf("open"), 400);
    const last = ids.at(-1)!;
    await ada.card(last).waitFor({ timeout: TIMEOUT });
    assert(
      (await ada.page.getByTestId("comment").count()) < 400,
      "long threads show their latest comments only",
    );

    // A local change: one card, and the one line whose thread changed.
    const before = await ada.renders();
    await ada.card(last).getByRole("button", { name: "Resolve" }).click();
    await eventuallyEqual(
      "ada: the resolved card",
      () => ada.card(last).getAttribute("data-status"),
      "resolved",
    );
    await ada.waitForOutbox((n) => n === 0, "to be acknowledged");
    const afterLocal = await ada.renders();
    assert(
      afterLocal.CommentCard! - before.CommentCard! === 1,
      `a resolve re-rendered ${afterLocal.CommentCard! - before.CommentCard!} comment cards, not 1`,
    );
    assert(
      afterLocal.LineBlock! - before.LineBlock! === 1,
      `a resolve re-rendered ${afterLocal.LineBlock! - before.LineBlock!} lines, not 1`,
    );

    // A change from another client: the same.
    const edited = ids.at(-2)!;
    const current = lin.store.comment.findById(edited)!;
    lin.store.comment.upsert(edited, {
      ...current,
      updatedAt: current.updatedAt + 1,
      data: { ...current.data, body: "Edited elsewhere: one card re-renders." },
    });
    await ada.waitForComment("Edited elsewhere");
    const afterRemote = await ada.renders();
    assert(
      afterRemote.CommentCard! - afterLocal.CommentCard! === 1,
      `a remote edit re-rendered ${afterRemote.CommentCard! - afterLocal.CommentCard!} comment cards, not 1`,
    );
    assert(
      afterRemote.LineBlock! - afterLocal.LineBlock! === 1,
      `a remote edit re-rendered ${afterRemote.LineBlock! - afterLocal.LineBlock!} lines, not 1`,
    );
    await ada.page.getByTestId("show-earlier-40").click();
    await eventuallyEqual(
      "ada: line 40's thread, expanded",
      () => ada.page.getByTestId("thread-40").getByTestId("comment").count(),
      10,
    );
    await ada.screenshot("g-renders");
  } finally {
    await lin.close();
  }
});

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  mkdirSync(screenshotDir, { recursive: true });
  const dataDir = tempDataDir();
  let server: DemoServer | undefined;
  let browser: Browser | undefined;
  let passed = 0;
  let failed = 0;
  try {
    server = await startServer({ dataDir });
    console.log(`demo server: ${server.url} (data ${dataDir})`);
    browser = await launchBrowser();
    const only = process.argv.slice(2);

    for (const { name, run } of tests) {
      if (only.length > 0 && !only.some((word) => name.includes(word))) continue;
      const contexts: BrowserContext[] = [];
      const pages: ReviewPage[] = [];
      const started = Date.now();
      const current = { server: server as DemoServer };
      const t: TestContext = {
        browser,
        get server() {
          return current.server;
        },
        async restartServer(during) {
          const { port } = current.server;
          await current.server.stop();
          await during?.();
          current.server = server = await startServer({ port, dataDir });
          return current.server;
        },
        async newContext() {
          const context = await browser!.newContext();
          contexts.push(context);
          return context;
        },
        pages,
        async open(context, room, user) {
          const page = await ReviewPage.open(context, current.server.url, room, user);
          pages.push(page);
          return page;
        },
      };
      try {
        await run(t);
        const errors = pages.flatMap((p) => p.errors);
        if (errors.length > 0)
          throw new AssertionError(`Uncaught errors in the page:\n${errors.join("\n")}`);
        passed++;
        console.log(`✓ ${name} (${Date.now() - started} ms)`);
      } catch (error) {
        failed++;
        console.log(
          `✗ ${name} (${Date.now() - started} ms)\n  ${String(error instanceof Error ? error.stack : error)}`,
        );
        for (const page of pages) {
          await page
            .screenshot(`failed-${tests.findIndex((x) => x.name === name)}-${page.user}`)
            .catch(() => {});
        }
        console.log(
          `  server output (last lines):\n${current.server.output().split("\n").slice(-15).join("\n")}`,
        );
      } finally {
        for (const context of contexts) await context.close().catch(() => {});
      }
    }
  } catch (error) {
    failed++;
    console.log(`✗ setup: ${String(error instanceof Error ? error.stack : error)}`);
  } finally {
    await browser?.close().catch(() => {});
    await server?.stop().catch(() => {});
    removeDir(dataDir);
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

process.exitCode = await main();
