/**
 * What the browser benchmark installs in every page before the app runs: long tasks recorded
 * from a PerformanceObserver, and a frame-accurate wait for a count shown in the page.
 *
 * Plain JavaScript in a string: a function passed to Playwright would be serialized as compiled
 * by tsx, whose helper calls (`__name`) do not exist in the page.
 */
export const PROBES = `
window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries())
    window.__longTasks.push({ start: entry.startTime, duration: entry.duration });
}).observe({ type: "longtask", buffered: true });
// The wall-clock time of the first frame in which the element testId shows at least atLeast.
window.__whenCount = (testId, atLeast) => new Promise((resolve) => {
  function check() {
    const text = document.querySelector('[data-testid="' + testId + '"]')?.textContent ?? "";
    if (Number(text.replace(/\\D/g, "")) >= atLeast) resolve(Date.now());
    else requestAnimationFrame(check);
  }
  check();
});
// Click -> the frame after the comment's card changed, from the click event's time.
window.__clickToPaint = (id) => new Promise((resolve) => {
  let clickedAt = 0;
  const before = document.querySelector('[data-comment-id="' + id + '"]').getAttribute("data-status");
  document.addEventListener("click", (event) => { clickedAt = event.timeStamp; }, { capture: true, once: true });
  const observer = new MutationObserver(() => {
    const card = document.querySelector('[data-comment-id="' + id + '"]');
    if (card?.getAttribute("data-status") === before) return;
    observer.disconnect();
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => resolve(performance.now() - clickedAt);
      channel.port2.postMessage(0);
    });
  });
  observer.observe(document.body, { subtree: true, attributes: true, childList: true });
});
`;
