/**
 * The page's long tasks with the CPU time of each, from a Chromium trace: on a machine shared
 * with other work, a task's wall time includes the time its thread waited for a core, and only
 * its thread time says how much work the page did in it.
 */
import type { BrowserContext, Page } from "playwright-core";

export interface TracedTask {
  /** Wall time, ms. */
  wall: number;
  /** The main thread's CPU time in it, ms. */
  cpu: number;
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/** Starts tracing; the returned function stops it and gives the main threads' tasks over 50 ms. */
export async function traceTasks(
  context: BrowserContext,
  page: Page,
): Promise<() => Promise<TracedTask[]>> {
  const cdp = await context.newCDPSession(page);
  const events: TraceEvent[] = [];
  cdp.on("Tracing.dataCollected", (data) =>
    events.push(...(data.value as unknown as TraceEvent[])),
  );
  await cdp.send("Tracing.start", {
    categories: "devtools.timeline,disabled-by-default-devtools.timeline",
    transferMode: "ReportEvents",
  });
  return async () => {
    const complete = new Promise<void>((done) => cdp.once("Tracing.tracingComplete", () => done()));
    await cdp.send("Tracing.end");
    await complete;
    await cdp.detach().catch(() => {});
    const main = new Set(
      events
        .filter((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain")
        .map((e) => `${e.pid}:${e.tid}`),
    );
    return events
      .filter((e) => e.name === "RunTask" && main.has(`${e.pid}:${e.tid}`) && (e.dur ?? 0) > 50_000)
      .map((e) => ({ wall: (e.dur ?? 0) / 1000, cpu: (e.tdur ?? 0) / 1000 }));
  };
}

/** "wall W ms (CPU C ms)" of the task with the most CPU time, or "none". */
export function busiest(tasks: TracedTask[]): string {
  if (tasks.length === 0) return "none over 50 ms";
  const top = tasks.reduce((a, b) => (b.cpu > a.cpu ? b : a));
  return `${Math.round(top.cpu)} ms CPU (that task ${Math.round(top.wall)} ms wall)`;
}
