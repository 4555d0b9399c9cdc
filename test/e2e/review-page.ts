/** The code-review app as a test drives it: one object per browser page. */
import { join } from "node:path";
import type { BrowserContext, Locator, Page } from "playwright-core";
import { eventually, eventuallyEqual, OPEN_TIMEOUT, screenshotDir, TIMEOUT } from "./harness.js";

export type ConnectionStatus = "connected" | "connecting" | "disconnected";

export interface CommentState {
  body: string;
  status: string;
  updatedAt: number;
}

export class ReviewPage {
  readonly errors: string[] = [];

  private constructor(
    readonly page: Page,
    readonly user: string,
  ) {
    page.on("pageerror", (error) => this.errors.push(`${user}: ${error.message}`));
  }

  /** Opens `room` as `user` in a new page of `context` and waits until the app is ready. */
  static async open(
    context: BrowserContext,
    baseUrl: string,
    room: string,
    user: string,
  ): Promise<ReviewPage> {
    const page = await context.newPage();
    await page.setViewportSize({ width: 1360, height: 900 });
    const review = new ReviewPage(page, user);
    await page.goto(
      `${baseUrl}/?room=${encodeURIComponent(room)}&user=${encodeURIComponent(user)}`,
    );
    await review.ready();
    return review;
  }

  /** Waits for the app: a first visit creates the browser's PGlite database (~20 s on a slow machine). */
  async ready(): Promise<void> {
    await this.page.getByTestId("app-ready").waitFor({ timeout: OPEN_TIMEOUT });
  }

  async reload(): Promise<void> {
    await this.page.reload();
    await this.ready();
  }

  /** The card of the comment whose body contains `text`. */
  comment(text: string): Locator {
    return this.page.getByTestId("comment").filter({ hasText: text });
  }

  async addComment(line: number, body: string): Promise<void> {
    await this.page.getByTestId(`add-comment-${line}`).click();
    await this.page.getByTestId("composer-input").fill(body);
    await this.page.getByRole("button", { name: "Comment", exact: true }).click();
    await this.comment(body).waitFor({ timeout: TIMEOUT });
  }

  async resolve(text: string): Promise<void> {
    await this.comment(text).getByRole("button", { name: "Resolve" }).click();
    await this.waitForStatus(text, "resolved");
  }

  async edit(text: string, body: string): Promise<void> {
    // By id: while editing, the card's text is the textarea's, which no longer contains `text`.
    const id = await this.comment(text).getAttribute("data-comment-id");
    const card = this.page.locator(`[data-testid=comment][data-comment-id="${id}"]`);
    await card.getByRole("button", { name: "Edit" }).click();
    await card.getByTestId("edit-input").fill(body);
    await card.getByRole("button", { name: "Save" }).click();
    await this.comment(body).waitFor({ timeout: TIMEOUT });
  }

  /** Every comment on the page, in page order. */
  async comments(): Promise<CommentState[]> {
    return this.page.getByTestId("comment").evaluateAll((cards) =>
      cards.map((card) => ({
        body: card.querySelector("[data-testid=comment-body]")?.textContent ?? "",
        status: card.getAttribute("data-status") ?? "",
        updatedAt: Number(card.getAttribute("data-updated-at")),
      })),
    );
  }

  async bodies(): Promise<string[]> {
    return (await this.comments()).map((c) => c.body).sort();
  }

  waitForComment(text: string): Promise<void> {
    return this.comment(text).first().waitFor({ timeout: TIMEOUT });
  }

  async waitForStatus(text: string, status: "open" | "resolved"): Promise<void> {
    await eventuallyEqual(
      `${this.user}: the status of "${text}"`,
      () => this.comment(text).first().getAttribute("data-status"),
      status,
    );
  }

  connection(): Promise<string | null> {
    return this.page.getByTestId("connection").getAttribute("data-status");
  }

  waitForConnection(status: ConnectionStatus, timeout?: number): Promise<string | null> {
    return eventuallyEqual(
      `${this.user}: the connection`,
      () => this.connection(),
      status,
      timeout,
    );
  }

  async outbox(): Promise<number> {
    return Number(await this.page.getByTestId("outbox").getAttribute("data-count"));
  }

  waitForOutbox(check: (count: number) => boolean, description: string): Promise<number> {
    return eventually(`${this.user}: the outbox ${description}`, () => this.outbox(), check);
  }

  /** Waits until every local change is in the browser's database. */
  async waitForSavedLocally(): Promise<void> {
    await eventuallyEqual(
      `${this.user}: changes saved on this device`,
      () => this.page.getByTestId("local-save").getAttribute("data-saved"),
      "true",
    );
  }

  /** Whether this tab's worker leads: owns the browser's database and the connection. */
  async leading(): Promise<boolean> {
    return (await this.page.getByTestId("local-save").getAttribute("data-leading")) === "true";
  }

  /** Waits until the service worker controls the page (it cached the app when it installed). */
  async waitForServiceWorker(): Promise<void> {
    await eventuallyEqual(
      `${this.user}: the service worker to control the page`,
      () => this.page.evaluate(() => navigator.serviceWorker.controller !== null),
      true,
    );
  }

  async countOf(status: "open" | "resolved"): Promise<number> {
    return Number(await this.page.getByTestId(`count-${status}`).textContent());
  }

  /** Renders per component since the page loaded (`window.__reviewRenders`). */
  renders(): Promise<Record<string, number>> {
    return this.page.evaluate(() => ({
      ...(window as { __reviewRenders?: object }).__reviewRenders,
    }));
  }

  /** The card of the comment with this id. */
  card(id: string): Locator {
    return this.page.locator(`[data-testid=comment][data-comment-id="${id}"]`);
  }

  async screenshot(name: string): Promise<string> {
    const path = join(screenshotDir, `${name}.png`);
    await this.page.mouse.move(0, 0); // no hover effects in the picture
    await this.page.screenshot({ path });
    return path;
  }
}

export { eventually };
