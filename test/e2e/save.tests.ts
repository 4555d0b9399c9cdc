/**
 * Saving in this browser and what the page says about it: a flush that fails is never shown as
 * "Saved", the page says so, and once saving works again nothing written meanwhile is lost.
 */
import { assert, eventuallyEqual } from "./harness.js";
import { test } from "./registry.js";

test("while this browser's database cannot save, the status never says Saved, and nothing is lost", async (t) => {
  const room = "failing-save";
  const context = await t.newContext();
  const ada = await t.open(context, room, "ada");
  await ada.waitForConnection("connected");
  await ada.waitForSavedLocally();

  // In the leader worker, IndexedDB refuses every write as a full disk does (QuotaExceededError):
  // PGlite's write-out of each transaction fails.
  const worker = ada.page.workers().find((w) => w.url().includes("leader.worker"));
  assert(worker !== undefined, "the page's leader worker runs");
  await worker.evaluate(() => {
    const scope = globalThis as unknown as { __put?: unknown };
    scope.__put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = () => {
      throw new DOMException("The disk is full.", "QuotaExceededError");
    };
  });
  // Every text the pill shows from now on, recorded in the page as it changes.
  await ada.page.evaluate(() => {
    const pill = document.querySelector("[data-testid=local-save]")!;
    const seen: string[] = [];
    (window as unknown as { __saveTexts: string[] }).__saveTexts = seen;
    new MutationObserver(() => seen.push(pill.textContent ?? "")).observe(pill, {
      subtree: true,
      childList: true,
      characterData: true,
    });
  });
  await ada.addComment(4, "Written while saving fails.");
  await eventuallyEqual(
    "ada: the pill says the change is not saved",
    () => ada.page.getByTestId("local-save").textContent(),
    "Not saved on this device",
  );
  assert(
    (await ada.page.getByTestId("local-save").getAttribute("data-saved")) === "false",
    "data-saved is false while the flush fails",
  );
  await ada.page.getByText("Changes are not being saved in this browser").first().waitFor();
  const shown = await ada.page.evaluate(
    () => (window as unknown as { __saveTexts: string[] }).__saveTexts,
  );
  assert(
    !shown.includes("Saved on this device"),
    `the pill never said Saved while the flush failed (it showed: ${shown.join(" → ")})`,
  );
  await ada.screenshot("j-save-failing");

  // Saving works again: the change written meanwhile is saved, and survives a reload.
  await worker.evaluate(() => {
    const scope = globalThis as unknown as { __put: typeof IDBObjectStore.prototype.put };
    IDBObjectStore.prototype.put = scope.__put;
  });
  await ada.addComment(5, "Written once saving works again.");
  await ada.waitForSavedLocally();
  await ada.waitForOutbox((n) => n === 0, "to be sent");
  // Offline, the reload shows what this browser's database holds, not the server's copy.
  await ada.waitForServiceWorker();
  await context.setOffline(true);
  await ada.reload();
  await ada.page.locator("[data-testid=local-save][data-opened=true]").waitFor();
  await ada.waitForComment("Written while saving fails.");
  await ada.waitForComment("Written once saving works again.");
  await context.setOffline(false);
});
