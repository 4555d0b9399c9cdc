/**
 * Refreshes docs/code-review.png, the README's picture of the demo:
 * `node --import tsx test/e2e/docs-screenshot.ts`. A room with a few real-looking comments by
 * two other reviewers, seen by ada in Chromium.
 */
import { join } from "node:path";
import { launchBrowser, removeDir, repoRoot, startServer, tempDataDir } from "./harness.js";
import { ReviewPage } from "./review-page.js";
import { openWriter } from "./writer.js";

const dataDir = tempDataDir();
const server = await startServer({ dataDir });
const browser = await launchBrowser();
try {
  const room = "retry-review";
  const grace = await openWriter(server.url, room, "grace");
  const lin = await openWriter(server.url, room, "lin");
  const now = Date.now() - 40 * 60_000;
  const say = (
    who: typeof grace,
    id: string,
    line: number,
    body: string,
    at: number,
    status: "open" | "resolved" = "open",
  ) =>
    who.store.comment.upsert(id, {
      id,
      type: "comment",
      updatedAt: now + at * 60_000,
      data: {
        body,
        lineNumber: line,
        author: who === grace ? "grace" : "lin",
        status,
        createdAt: now + at * 60_000,
        updatedBy: who === grace ? "grace" : "lin",
      },
    });
  say(
    grace,
    "c1",
    19,
    "The loop sleeps after the last attempt too: skip the sleep when attempt === retries.",
    1,
  );
  say(lin, "c2", 19, "Agreed; and log the error itself, not only the attempt number.", 4);
  say(
    grace,
    "c3",
    27,
    "Add full jitter: Math.random() * delay, or every client retries in lockstep.",
    9,
  );
  say(lin, "c4", 10, "Name the magic 2 in the backoff.", 12, "resolved");
  say(grace, "c5", 39, "429 is retryable only with a Retry-After; read it.", 20);
  lin.store.review.upsert("review:lin", {
    id: "review:lin",
    type: "review",
    updatedAt: now,
    data: { author: "lin", verdict: "request-changes" },
  });
  await grace.acknowledged();
  await lin.acknowledged();
  const context = await browser.newContext();
  const ada = await ReviewPage.open(context, server.url, room, "ada");
  await ada.waitForConnection("connected");
  await ada.waitForComment("429 is retryable");
  await ada.waitForSavedLocally();
  await ada.page.mouse.move(0, 0);
  await ada.page.screenshot({ path: join(repoRoot, "docs/code-review.png") });
  await grace.close();
  await lin.close();
} finally {
  await browser.close();
  await server.stop();
  removeDir(dataDir);
}
