/**
 * Where the demo's main-thread long tasks go: `node --import tsx bench/browser/profile.ts`.
 * Opens the app (first visit, reload), streams comments into it, reloads it with the room full,
 * and prints, for each phase, its long tasks and the functions that took the most self time
 * during them (a CPU profile of the page's main thread, sampled every 200 µs); for the stream,
 * also its long tasks from a trace, with their CPU time and what each ran.
 */
import type { CDPSession } from "playwright-core";
import { launchBrowser, removeDir, startServer, tempDataDir } from "../../test/e2e/harness.js";
import { openWriter } from "../../test/e2e/writer.js";
import { PROBES } from "./page-probes.js";
import { describeTasks, traceTasks } from "./task-trace.js";

const STREAM = Number(process.env.BENCH_STREAM ?? 2000);
const ROOM_SIZE = Number(process.env.BENCH_ROOM ?? 5000);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * The busy stretches of the main thread over `minMs` (consecutive samples that are not idle:
 * what the page sees as long tasks), each with the functions of most self time in it.
 */
function longStretches(profile: Profile, minMs = 50, top = 8): string[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const out: string[] = [];
  let stretch: { start: number; ms: number; self: Map<string, number> } | undefined;
  const close = () => {
    if (stretch && stretch.ms >= minMs) {
      out.push(`  busy ${stretch.ms.toFixed(0)} ms at +${stretch.start.toFixed(0)} ms:`);
      for (const [key, ms] of [...stretch.self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top))
        out.push(`    ${ms.toFixed(1).padStart(7)} ms  ${key}`);
    }
    stretch = undefined;
  };
  let time = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i]! / 1000;
    const node = byId.get(profile.samples[i]!)!;
    if (node.callFrame.functionName === "(idle)") {
      close();
      continue;
    }
    stretch ??= { start: time, ms: 0, self: new Map() };
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    stretch.ms += ms;
    // The function and the app's (or library's) caller nearest to it, for context.
    let caller = parent.get(node.id);
    let callerName = "";
    for (let depth = 0; caller !== undefined && depth < 3; depth++) {
      const frame = byId.get(caller)!.callFrame;
      callerName += ` < ${frame.functionName || "(anonymous)"}`;
      caller = parent.get(caller);
    }
    const frame = node.callFrame;
    const key = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").pop() ?? ""}:${frame.lineNumber}${callerName}`;
    stretch.self.set(key, (stretch.self.get(key) ?? 0) + ms);
  }
  close();
  return out;
}

async function phase(cdp: CDPSession, name: string, run: () => Promise<void>) {
  await cdp.send("Profiler.start");
  await run();
  const { profile } = (await cdp.send("Profiler.stop")) as { profile: Profile };
  console.log(`\n${name}:`);
  console.log(longStretches(profile).join("\n"));
}

async function main(): Promise<void> {
  const dataDir = tempDataDir();
  const server = await startServer({ dataDir });
  const browser = await launchBrowser().catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  try {
    const context = await browser.newContext();
    await context.addInitScript({ content: PROBES });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
    await page.setViewportSize({ width: 1360, height: 900 });
    const url = `${server.url}/?room=profile&user=ada`;
    const open = async () => {
      await page.goto(url);
      await page.getByTestId("app-ready").waitFor({ timeout: 120_000 });
      await page
        .locator("[data-testid=local-save][data-opened=true]")
        .waitFor({ timeout: 120_000 });
      await page.waitForTimeout(500);
    };
    await phase(cdp, "first visit", open);
    await phase(cdp, "reload (empty room)", open);
    const lin = await openWriter(server.url, "profile", "lin");
    const stopTrace = await traceTasks(context, page);
    await phase(cdp, `stream of ${STREAM}`, async () => {
      await lin.addComments(STREAM, 40);
      await page.waitForTimeout(1500);
    });
    const streamTasks = await stopTrace();
    console.log(
      `\nstream of ${STREAM}, the tasks over 50 ms of most CPU (a trace of the same stretch):`,
    );
    console.log(describeTasks(streamTasks).join("\n") || "  none");
    await lin.addComments(ROOM_SIZE - STREAM, 40);
    await page.waitForTimeout(3000);
    await phase(cdp, `reload with ${ROOM_SIZE}`, open);
    await lin.close();
  } finally {
    await browser.close().catch(() => {});
    await server.stop().catch(() => {});
    removeDir(dataDir);
  }
}

await main();
