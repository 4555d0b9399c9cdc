/**
 * Counts renders per component, on `window.__reviewRenders`, so that a browser test (and anyone
 * in the console) can check that one changed comment re-renders one card, not every card.
 * Counting costs an increment per render.
 */
export type RenderCounts = Record<string, number>;

declare global {
  interface Window {
    __reviewRenders?: RenderCounts;
  }
}

const counts: RenderCounts = {};
if (typeof window !== "undefined") window.__reviewRenders = counts;

export function countRender(component: string): void {
  counts[component] = (counts[component] ?? 0) + 1;
}
