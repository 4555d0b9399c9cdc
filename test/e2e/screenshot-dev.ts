import { launchBrowser, startServer, tempDataDir } from "./harness.js";
import { ReviewPage } from "./review-page.js";

const server = await startServer({ dataDir: tempDataDir() });
const browser = await launchBrowser();
try {
  const ctx = await browser.newContext();
  const a = await ReviewPage.open(ctx, server.url, "dev", "ada");
  await a.addComment(
    18,
    "The loop sleeps after the last attempt too; skip the sleep when attempt === retries.",
  );
  await a.addComment(
    20,
    "Abort is only checked between attempts. Should `sleep` take the signal as well?",
  );
  await a.addComment(28, "No jitter: every client retries at the same moment after an outage.");
  await a.resolve("No jitter");
  await a.page.getByRole("button", { name: "✓ Approve" }).click();
  await a.screenshot("dev");
  console.log(a.errors);
} finally {
  await browser.close();
  await server.stop();
}
