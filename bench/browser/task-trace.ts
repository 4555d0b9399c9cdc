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
  /** What the task ran, by trace event (its outermost ones: a timer, a message, a layout): CPU ms. */
  inside: Map<string, number>;
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string; data?: { functionName?: string; url?: string } };
}

/** An event's label: its name, and for a script its function and file. */
function label(event: TraceEvent): string {
  const data = event.args?.data;
  if (event.name !== "FunctionCall" || !data) return event.name;
  const file = data.url?.split("/").pop() ?? "";
  return `FunctionCall ${data.functionName || "(anonymous)"} ${file}`.trim();
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
    categories: "devtools.timeline,disabled-by-default-devtools.timeline,v8",
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
    // The main thread's complete events in time order, a task before what it contains.
    const timeline = events
      .filter((e) => e.ph === "X" && main.has(`${e.pid}:${e.tid}`))
      .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
    const tasks: TracedTask[] = [];
    let task: { end: number; traced: TracedTask } | undefined;
    let childEnd = 0;
    for (const event of timeline) {
      const end = event.ts + (event.dur ?? 0);
      if (event.name === "RunTask") {
        task = undefined;
        if ((event.dur ?? 0) <= 50_000) continue;
        const traced = {
          wall: (event.dur ?? 0) / 1000,
          cpu: (event.tdur ?? 0) / 1000,
          inside: new Map<string, number>(),
        };
        tasks.push(traced);
        task = { end, traced };
        childEnd = 0;
        continue;
      }
      // Only the task's outermost events: one nested in another is counted in it.
      if (!task || event.ts >= task.end || event.ts < childEnd) continue;
      childEnd = end;
      const key = label(event);
      const cpu = (event.tdur ?? event.dur ?? 0) / 1000;
      task.traced.inside.set(key, (task.traced.inside.get(key) ?? 0) + cpu);
    }
    return tasks;
  };
}

/** "wall W ms (CPU C ms)" of the task with the most CPU time, or "none". */
export function busiest(tasks: TracedTask[]): string {
  if (tasks.length === 0) return "none over 50 ms";
  const top = tasks.reduce((a, b) => (b.cpu > a.cpu ? b : a));
  return `${Math.round(top.cpu)} ms CPU (that task ${Math.round(top.wall)} ms wall)`;
}

/** "W ms wall (CPU C ms)" of the task with the most wall time: how much of it was work. */
export function longestTraced(tasks: TracedTask[]): string {
  if (tasks.length === 0) return "none over 50 ms";
  const top = tasks.reduce((a, b) => (b.wall > a.wall ? b : a));
  return `${Math.round(top.wall)} ms wall (CPU ${Math.round(top.cpu)} ms)`;
}

/** The `count` tasks of most CPU time, each with what it ran, for a report. */
export function describeTasks(tasks: TracedTask[], count = 6): string[] {
  return [...tasks]
    .sort((a, b) => b.cpu - a.cpu)
    .slice(0, count)
    .flatMap((task) => [
      `  task ${task.wall.toFixed(0)} ms wall, ${task.cpu.toFixed(1)} ms CPU:`,
      ...[...task.inside.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([name, cpu]) => `    ${cpu.toFixed(1).padStart(7)} ms CPU  ${name}`),
    ]);
}
