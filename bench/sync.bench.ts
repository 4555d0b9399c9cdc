// The sync server under load. 100 raw-protocol clients in one room, spread over load processes
// (bench/sync/load-client.ts) apart from the servers they load, write at a fixed total rate;
// each times its own acks and every other client's writes reaching it. In the same run: a plain
// `ws` broadcast server that batches one frame per event-loop turn (bench/sync/floor-server.ts,
// the floor), the default server on embedded PGlite, one server on PostgreSQL and two servers
// on one PostgreSQL (clients split between them). For each, a saturation search: the highest rate
// with delivery p99 < 50 ms and nothing lost. Then a convergence check with full clients
// (NetworkSyncEngine + store) on PGlite and across two PostgreSQL servers.
// Flags/env: --quick (fewer, shorter steps), SYNC_BENCH_RATES ("200,1000,2000,3000,5000"),
// SYNC_BENCH_SECONDS (8), SYNC_BENCH_SETUPS ("floor,pglite,postgres,compaction"; "postgres1" or
// "postgres2" for one of the PostgreSQL setups alone), SYNC_BENCH_CPU_PROF (a directory: the
// servers write V8 CPU profiles there when stopped), KALPHITE_TEST_POSTGRES_URL.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { KalphiteStore } from "../src/core/index.js";
import { signToken } from "../src/server/auth.js";
import { postgresStorage } from "../src/server/index.js";
import { NetworkSyncEngine, type WebSocketConstructor } from "../src/sync/index.js";
import { comment, Entity } from "../test/fixtures/schema.js";
import { writeResults } from "./results.js";
import { type CompactionFigures, compactionRun } from "./sync/compaction.js";
import { count, histogram, merge, quantile } from "./sync/histogram.js";
import type { RunCommand, RunResult } from "./sync/load-client.js";

const QUICK = process.argv.includes("--quick") || process.env.SYNC_BENCH_QUICK === "1";
const CLIENTS = 100;
const LOAD_PROCESSES = 4;
const RATES = (process.env.SYNC_BENCH_RATES ?? (QUICK ? "500,2000" : "200,1000,2000,3000,5000"))
  .split(",")
  .map(Number);
const SETUPS = (process.env.SYNC_BENCH_SETUPS ?? "floor,pglite,postgres,compaction").split(",");
const COMPACTION_UPDATES = Number(
  process.env.SYNC_BENCH_COMPACTION_UPDATES ?? (QUICK ? 100_000 : 1_000_000),
);
const CPU_PROF = process.env.SYNC_BENCH_CPU_PROF;
const SECONDS = Number(process.env.SYNC_BENCH_SECONDS ?? (QUICK ? 4 : 8));
const POSTGRES_URL =
  process.env.KALPHITE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const SECRET = "bench-secret";
const CLI = fileURLToPath(new URL("../src/server/cli.ts", import.meta.url));
const FLOOR = fileURLToPath(new URL("./sync/floor-server.ts", import.meta.url));
const LOAD = fileURLToPath(new URL("./sync/load-client.ts", import.meta.url));
const TICKS = 100; // clock ticks per second of /proc/<pid>/stat on Linux
const children: ChildProcess[] = [];
// Whatever happens, no child process outlives the benchmark.
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

interface Server {
  url: string;
  child: ChildProcess;
}

function startProcess(script: string, args: string[]): Promise<Server> {
  const profile = CPU_PROF && script === CLI ? ["--cpu-prof", "--cpu-prof-dir", CPU_PROF] : [];
  const node = [...profile, "--import", "tsx", script, "--port", "0", ...args];
  const child = spawn(process.execPath, node, {
    env: { ...process.env, KALPHITE_SECRET: SECRET },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 120 s`)), 120_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (ws:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ url: match[1], child });
      }
    });
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/** CPU seconds used so far by a process (user + system). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** A process's resident memory now and at its peak, in MiB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

interface Step {
  rate: number;
  achieved: number;
  deliveries: number;
  delivery50: number;
  delivery99: number;
  ack50: number;
  ack99: number;
  lost: number;
  cpu: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
}

const loaders: ChildProcess[] = [];

async function step(urls: string[], rate: number): Promise<Step> {
  const room = `bench-${rate}-${Date.now()}`;
  const perProcess = CLIENTS / LOAD_PROCESSES;
  const ready: Promise<void>[] = [];
  const results = Promise.all(
    loaders.map(
      (loader, p) =>
        new Promise<RunResult>((resolve, reject) => {
          let joined = () => {};
          ready.push(
            new Promise<void>((resolveReady) => {
              joined = resolveReady;
            }),
          );
          const onMessage = (message: RunResult | { type: string; message?: string }) => {
            if (message.type === "ready") joined();
            else if (message.type === "result") {
              loader.off("message", onMessage);
              resolve(message as RunResult);
            } else if (message.type === "failed") reject(new Error(message.message));
          };
          loader.on("message", onMessage);
          const command: RunCommand = {
            cmd: "run",
            // Clients split evenly over the servers.
            urls: Array.from(
              { length: perProcess },
              (_, i) => urls[(p * perProcess + i) % urls.length] as string,
            ),
            room,
            userIds: Array.from({ length: perProcess }, (_, i) => `u${p * perProcess + i}`),
            secret: SECRET,
            rate: rate / LOAD_PROCESSES,
            seconds: SECONDS,
            expectedWrites: LOAD_PROCESSES * Math.floor((rate / LOAD_PROCESSES) * SECONDS),
          };
          loader.send(command);
        }),
    ),
  );
  // Everyone joined: all processes start writing at one moment.
  await Promise.all(ready);
  const startAt = Date.now() + 200;
  for (const loader of loaders) loader.send({ cmd: "go", startAt });
  const done = await results;
  const delivery = histogram();
  const ack = histogram();
  let sent = 0;
  let acked = 0;
  let seen = 0;
  const errors: Record<string, number> = {};
  const closes: Record<string, number> = {};
  for (const r of done) {
    merge(delivery, r.delivery);
    merge(ack, r.ack);
    sent += r.sent;
    acked += r.acked;
    seen += r.seen.reduce((n, v) => n + v, 0);
    for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.closes)) closes[k] = (closes[k] ?? 0) + v;
  }
  // Every connection should have seen every acknowledged write (its own as acks).
  const lost = sent - acked + (acked * CLIENTS - seen);
  return {
    rate,
    achieved: sent / SECONDS,
    deliveries: count(delivery),
    delivery50: quantile(delivery, 50),
    delivery99: quantile(delivery, 99),
    ack50: quantile(ack, 50),
    ack99: quantile(ack, 99),
    lost,
    cpu: 0,
    errors,
    closes,
  };
}

interface Setup {
  label: string;
  idleRss: number;
  peakRss: number;
  steps: Step[];
  saturation: number;
}

async function measure(label: string, servers: Server[]): Promise<Setup> {
  const pids = servers.map((s) => s.child.pid as number);
  const idleRss = pids.reduce((n, pid) => n + memory(pid).rss, 0);
  const steps: Step[] = [];
  for (const rate of RATES) {
    const cpu0 = pids.map(cpuSeconds);
    const t0 = Date.now();
    const result = await step(
      servers.map((s) => s.url),
      rate,
    );
    const wall = (Date.now() - t0) / 1000;
    result.cpu = pids.reduce((n, pid, i) => n + (cpuSeconds(pid) - (cpu0[i] ?? 0)), 0) / wall;
    steps.push(result);
    console.log(label, JSON.stringify(result));
    // Far past saturation: higher rates would only take longer to drain.
    if (result.delivery99 > 2_000 || result.lost > result.rate * SECONDS) break;
  }
  const peakRss = pids.reduce((n, pid) => n + memory(pid).peak, 0);
  const ok = steps.filter((s) => s.delivery99 < 50 && s.lost === 0);
  return { label, idleRss, peakRss, steps, saturation: Math.max(0, ...ok.map((s) => s.rate)) };
}

async function stop(servers: Server[]): Promise<void> {
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.child.once("exit", () => resolve());
          s.child.kill("SIGTERM");
        }),
    ),
  );
}

/** Full clients (store + engine) write concurrently; every store must end equal. */
async function convergence(
  urls: string[],
): Promise<{ converged: boolean; writes: number; ms: number }> {
  const room = `converge-${Date.now()}`;
  const started = Date.now();
  const clients = Array.from({ length: 10 }, (_, i) => {
    const userId = `f${i}`;
    const store = KalphiteStore(Entity);
    const engine = new NetworkSyncEngine({
      wsUrl: urls[i % urls.length] as string,
      roomId: room,
      userId,
      authToken: signToken({ userId, rooms: [room] }, SECRET),
      store,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    return { store, engine };
  });
  await Promise.all(clients.map((c) => c.engine.connect()));
  let writes = 0;
  for (let round = 0; round < 50; round++) {
    for (const [i, c] of clients.entries()) {
      // Everyone edits the same 20 entities: concurrent edits on purpose.
      const id = `c${(round * 7 + i) % 20}`;
      c.store.comment.upsert(
        id,
        comment(id, { body: `${i}:${round}`, lineNumber: round }, Date.now()),
      );
      writes++;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // Keys sorted: PostgreSQL's jsonb returns an entity's keys in its own order.
  const canonical = (value: unknown): string =>
    JSON.stringify(value, (_key, v: unknown) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
        : v,
    );
  const fingerprint = (store: (typeof clients)[number]["store"]) =>
    canonical(
      store
        .entities()
        .map((e) => [e.id, (e as { data: unknown }).data])
        .sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)),
    );
  const deadline = Date.now() + 30_000;
  let converged = false;
  while (Date.now() < deadline && !converged) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const first = fingerprint(clients[0]?.store as (typeof clients)[number]["store"]);
    converged =
      clients.every((c) => c.engine.getOfflineQueueSize() === 0) &&
      clients.every((c) => fingerprint(c.store) === first);
  }
  if (!converged) {
    const first = fingerprint(clients[0]?.store as (typeof clients)[number]["store"]);
    for (const c of clients)
      console.error(
        `not converged: outbox ${c.engine.getOfflineQueueSize()}, cursor ${c.engine.getCursor()}, ${c.engine.getConnectionStatus()}, ${fingerprint(c.store) === first ? "same" : "differs"}`,
      );
  }
  await Promise.all(clients.map((c) => c.engine.destroy()));
  return { converged, writes, ms: Date.now() - started };
}

const ms = (v: number) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms` : "—");

async function main(): Promise<void> {
  const loadBefore = loadavg()[0] ?? 0;
  for (let i = 0; i < LOAD_PROCESSES; i++) {
    const loader = fork(LOAD, [], { execArgv: ["--import", "tsx"], stdio: "inherit" });
    children.push(loader);
    loaders.push(loader);
  }
  const setups: Setup[] = [];
  const checks: string[] = [];
  let compaction: CompactionFigures | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), "kalphite-bench-"));
  try {
    if (SETUPS.includes("floor")) {
      const floor = [await startProcess(FLOOR, [])];
      setups.push(await measure("`ws` floor (batched per tick, no storage)", floor));
      await stop(floor);
    }
    if (SETUPS.includes("pglite")) {
      const pglite = [await startProcess(CLI, ["--data-dir", join(dataDir, "server")])];
      setups.push(await measure("1 server, PGlite (default)", pglite));
      const c1 = await convergence(pglite.map((s) => s.url));
      checks.push(
        `PGlite: ${c1.converged ? "converged" : "DID NOT CONVERGE"} (10 full clients, ${c1.writes} concurrent writes, ${(c1.ms / 1000).toFixed(1)} s)`,
      );
      await stop(pglite);
    }
    const onePostgres = SETUPS.includes("postgres") || SETUPS.includes("postgres1");
    const twoPostgres = SETUPS.includes("postgres") || SETUPS.includes("postgres2");
    if (onePostgres || twoPostgres) {
      try {
        const prefix = `bench_${Date.now()}_`;
        const one = [
          await startProcess(CLI, ["--postgres", POSTGRES_URL, "--table-prefix", prefix]),
        ];
        if (onePostgres) setups.push(await measure("1 server, PostgreSQL", one));
        if (twoPostgres) {
          const two = [
            ...one,
            await startProcess(CLI, ["--postgres", POSTGRES_URL, "--table-prefix", prefix]),
          ];
          setups.push(await measure("2 servers, one PostgreSQL", two));
          const c2 = await convergence(two.map((s) => s.url));
          checks.push(
            `2 servers on PostgreSQL: ${c2.converged ? "converged" : "DID NOT CONVERGE"} (10 full clients split over both, ${c2.writes} concurrent writes, ${(c2.ms / 1000).toFixed(1)} s)`,
          );
          await stop(two);
        } else await stop(one);
      } catch (error) {
        console.error(`PostgreSQL runs skipped: ${(error as Error).message}`);
      }
    }
    if (SETUPS.includes("compaction")) {
      const storage = await postgresStorage({
        url: POSTGRES_URL,
        tablePrefix: `bench_compaction_${Date.now()}_`,
      });
      try {
        compaction = await compactionRun(storage, COMPACTION_UPDATES, 1_000);
        console.log("compaction", JSON.stringify(compaction));
      } finally {
        await storage.close();
      }
    }
  } finally {
    for (const child of children) child.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  }

  const rows = setups.flatMap((s) =>
    s.steps.map((r) => {
      const trouble = [
        ...Object.entries(r.errors).map(([k, v]) => `${v}× ${k}`),
        ...Object.entries(r.closes).map(([k, v]) => `${v}× close ${k}`),
      ].join(", ");
      return `| ${s.label} | ${r.rate}/s | ${r.achieved.toFixed(0)}/s | ${ms(r.delivery50)} / ${ms(r.delivery99)} | ${ms(r.ack50)} / ${ms(r.ack99)} | ${(r.cpu * 100).toFixed(0)}% | ${r.lost} | ${trouble || "—"} |`;
    }),
  );
  const summary = setups.map(
    (s) =>
      `| ${s.label} | ${s.saturation > 0 ? `${s.saturation}/s` : `< ${RATES[0]}/s`} | ${s.idleRss.toFixed(0)} MiB | ${s.peakRss.toFixed(0)} MiB |`,
  );
  writeResults(
    "sync",
    `## Sync server under load

${CLIENTS} raw-protocol clients in one room, in ${LOAD_PROCESSES} load processes apart from the server(s); every client writes its own entities at an equal share of the total rate for ${SECONDS} s. Delivery: from a client's send to each other client's receipt (${CLIENTS - 1} deliveries per write); ack: from send to the writer's ack (stored durably first). "Lost" counts writes never acknowledged plus deliveries never received, 20 s after the last write. CPU is the server processes' share of one core over the step. The floor is a plain \`ws\` server that broadcasts one frame per event-loop turn and stores nothing: the cost of the sockets alone on this machine. Targets: PGlite 2,000/s and two PostgreSQL servers 5,000/s with delivery p99 < 50 ms (and within 3× the floor's), nothing lost.${QUICK ? " (--quick run: fewer, shorter steps.)" : ""} The machine's load average was ${loadBefore.toFixed(1)} when the run began and ${(loadavg()[0] ?? 0).toFixed(1)} when it ended (other work shares its cores): compare setups within the run, not with other runs.

| Setup | Saturation (p99 < 50 ms, 0 lost) | RSS before the steps | Peak RSS |
| --- | --- | --- | --- |
${summary.join("\n")}

| Setup | Rate | Achieved | Delivery p50 / p99 | Ack p50 / p99 | Server CPU | Lost | Errors, closes |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

Full clients: ${checks.join("; ")}.
${
  compaction
    ? `
### Compaction

A room on PostgreSQL that received ${compaction.updates.toLocaleString("en")} updates of ${compaction.entities.toLocaleString("en")} entities (commits of 5,000; ${(compaction.updates / compaction.writeSeconds).toFixed(0)} updates/s written): ${compaction.rowsBefore.toLocaleString("en")} log rows before compaction, **${compaction.rowsAfter.toLocaleString("en")} after** (one per entity: its latest version), compacted in ${compaction.compactSeconds.toFixed(1)} s (one transaction; the room's commits wait for it). Compaction runs every minute per open room and keeps the last 10,000 entries by default, so its cost per run is that of the entries added since the last one.`
    : ""
}`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    for (const child of children) child.kill("SIGKILL");
    process.exit(1);
  },
);
