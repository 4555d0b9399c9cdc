/** The browser tests' registry: each test file adds its tests with `test()`; run.ts runs them. */
import type { Browser, BrowserContext } from "playwright-core";
import type { DemoServer, SyncSwitch } from "./harness.js";
import type { ReviewPage } from "./review-page.js";

export interface TestContext {
  browser: Browser;
  server: DemoServer;
  /** Replaces the running server by a new one on the same port and data directory. */
  restartServer(during?: () => Promise<void>): Promise<DemoServer>;
  /** A fresh browser context, closed after the test. */
  newContext(): Promise<BrowserContext>;
  /** Pages opened in the test: their uncaught errors fail it. */
  pages: ReviewPage[];
  /** Opens `room` as `user` in a new page of `context`, at the server or at `baseUrl`. */
  open(context: BrowserContext, room: string, user: string, baseUrl?: string): Promise<ReviewPage>;
  /** A way to the server whose sync can be cut (closed after the test). */
  syncSwitch(): Promise<SyncSwitch>;
}

export type Test = { name: string; run(t: TestContext): Promise<void> };

export const tests: Test[] = [];

export function test(name: string, run: (t: TestContext) => Promise<void>): void {
  tests.push({ name, run });
}
