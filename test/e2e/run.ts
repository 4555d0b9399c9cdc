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
  type DemoServer,
  launchBrowser,
  removeDir,
  type SyncSwitch,
  screenshotDir,
  startServer,
  syncSwitch,
  tempDataDir,
} from "./harness.js";
import { type TestContext, tests } from "./registry.js";
import { ReviewPage } from "./review-page.js";
import "./sync.tests.js";
import "./scale.tests.js";
import "./save.tests.js";

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
      const switches: SyncSwitch[] = [];
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
        async open(context, room, user, baseUrl) {
          const page = await ReviewPage.open(context, baseUrl ?? current.server.url, room, user);
          pages.push(page);
          return page;
        },
        async syncSwitch() {
          const way = await syncSwitch(() => current.server.port);
          switches.push(way);
          return way;
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
        for (const way of switches) await way.close().catch(() => {});
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
