// Sync over loopback: N clients in one room, a fixed total rate of upserts for a fixed time.
// Measures upsert → other clients' signals latency, lost changes and convergence, first on one
// kalphite-server (PGlite), then across two kalphite-server processes on PostgreSQL.
// Env: SYNC_BENCH_CLIENTS (100), SYNC_BENCH_RATE (comma-separated totals per second, "2000,200"), SYNC_BENCH_SECONDS (20),
// KALPHITE_TEST_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/test).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { KalphiteStore } from "../src/core/index.js";
import { signToken } from "../src/server/auth.js";
import { NetworkSyncEngine, type WebSocketConstructor } from "../src/sync/index.js";
import { comment, Entity } from "../test/fixtures/schema.js";
import { median, percentile, writeResults } from "./results.js";

const CLIENTS = Number(process.env.SYNC_BENCH_CLIENTS ?? 100);
// The target rate, then a tenth of it, which shows the latency when the machine is not saturated.
const RATES = (process.env.SYNC_BENCH_RATE ?? "2000,200").split(",").map(Number);
const SECONDS = Number(process.env.SYNC_BENCH_SECONDS ?? 20);
const POSTGRES_URL =
  process.env.KALPHITE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const SECRET = "bench-secret";
const IDS_PER_CLIENT = 20;
const CLI = fileURLToPath(new URL("../src/server/cli.ts", import.meta.url));
const children: ChildProcess[] = [];
// Whatever happens, no server process outlives the benchmark.
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});
const errors = new Map<string, number>();

function startServer(args: string[]): Promise<string> {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "--port", "0", ...args], {
    env: { ...process.env, KALPHITE_SECRET: SECRET },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error("kalphite-server did not start in 120 s")),
      120_000,
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (ws:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`kalphite-server exited with ${code}`)));
  });
}

interface Result {
  label: string;
  rate: number;
  sent: number;
  acked: number;
  lost: number;
  converged: boolean;
  p50: number;
  p99: number;
  samples: number;
  achievedRate: number;
}

async function run(label: string, urls: string[], rate: number): Promise<Result> {
  const room = `bench-${Date.now()}`;
  const latencies = new Float64Array(Math.ceil(rate * SECONDS * 1.1) * CLIENTS);
  let samples = 0;
  let acked = 0;
  const clients = Array.from({ length: CLIENTS }, (_, i) => {
    const userId = `u${i}`;
    const store = KalphiteStore(Entity);
    const engine = new NetworkSyncEngine({
      wsUrl: urls[i % urls.length] as string,
      roomId: room,
      userId,
      authToken: signToken({ userId, rooms: [room] }, SECRET),
      store,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      heartbeatInterval: 5_000,
    });
    engine.on("ack", () => acked++);
    engine.on("error", (error) =>
      errors.set(error.code ?? "?", (errors.get(error.code ?? "?") ?? 0) + 1),
    );
    // The moment the entity's signal changes here: the store's change stream is synchronous with it.
    store.onChange((change) => {
      if (change.origin !== "remote" || change.operation !== "upsert" || !change.entity) return;
      const sentAt = Number((change.entity as { data: { body: string } }).data.body);
      if (samples < latencies.length) latencies[samples++] = performance.now() - sentAt;
    });
    return { userId, store, engine };
  });
  await Promise.all(clients.map((c) => c.engine.connect()));

  let sent = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = (performance.now() - started) / 1000;
      if (elapsed >= SECONDS) {
        clearInterval(tick);
        resolve();
        return;
      }
      const due = Math.floor(elapsed * rate);
      while (sent < due) {
        const client = clients[sent % CLIENTS];
        if (!client) break;
        const id = `${client.userId}-${Math.floor(sent / CLIENTS) % IDS_PER_CLIENT}`;
        client.store.comment.upsert(
          id,
          comment(id, { body: String(performance.now()), lineNumber: sent }, Date.now()),
        );
        sent++;
      }
    }, 5);
  });
  const achievedRate = sent / ((performance.now() - started) / 1000);

  // Let delivery finish (bounded), then compare every store with the first.
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    const cursors = new Set(clients.map((c) => c.engine.getCursor()));
    if (clients.every((c) => c.engine.getOfflineQueueSize() === 0) && cursors.size === 1) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const fingerprint = (c: (typeof clients)[number]) =>
    c.store
      .entities()
      .map((e) => `${e.id}:${(e as { data: { lineNumber: number } }).data.lineNumber}`)
      .sort()
      .join(",");
  const reference = fingerprint(clients[0] as (typeof clients)[number]);
  const converged =
    clients.every((c) => fingerprint(c) === reference) &&
    clients[0]?.store.comment.length === Math.min(sent, CLIENTS * IDS_PER_CLIENT);
  const unacked = clients.reduce((n, c) => n + c.engine.getOfflineQueueSize(), 0);
  await Promise.all(clients.map((c) => c.engine.destroy()));
  const values = Array.from(latencies.subarray(0, samples));
  if (errors.size > 0) console.log(`${label}: client errors`, Object.fromEntries(errors));
  errors.clear();
  return {
    label,
    rate: rate,
    sent,
    acked,
    lost: unacked,
    converged,
    p50: median(values),
    p99: percentile(values, 99),
    samples,
    achievedRate,
  };
}

async function main(): Promise<void> {
  const results: Result[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), "kalphite-bench-"));
  try {
    const url = await startServer(["--data-dir", dataDir]);
    for (const rate of RATES) {
      results.push(await run("1 server, PGlite", [url], rate));
      console.log(results.at(-1));
    }
    children.pop()?.kill("SIGTERM");
    try {
      const prefix = `bench_${Date.now()}_`;
      const one = await startServer(["--postgres", POSTGRES_URL, "--table-prefix", prefix]);
      const two = await startServer(["--postgres", POSTGRES_URL, "--table-prefix", prefix]);
      for (const rate of RATES) {
        results.push(await run("2 servers, PostgreSQL", [one, two], rate));
        console.log(results.at(-1));
      }
    } catch (error) {
      console.error(`PostgreSQL run skipped: ${(error as Error).message}`);
    }
  } finally {
    for (const child of children) child.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  }
  const rows = results.map(
    (r) =>
      `| ${r.label} | ${r.rate}/s | ${r.sent} | ${r.achievedRate.toFixed(0)}/s | ${r.samples} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${r.lost} | ${r.converged ? "yes" : "NO"} |`,
  );
  writeResults(
    "sync",
    `## Sync over loopback\n\n${CLIENTS} clients in one room, upserts at the given total rate for ${SECONDS} s; latency from one client's \`upsert\` to each other client's signal. All clients share one Node process (every upsert is delivered to ${CLIENTS - 1} of them), so when that process saturates the latency is its own queueing. "Unacked" counts upserts still unacknowledged 60 s after the last one was made; convergence is checked then. Targets: p50 < 5 ms, p99 < 50 ms, 0 lost.\n\n| Setup | Target rate | Upserts | Rate achieved | Deliveries measured | p50 | p99 | Unacked after 60 s | Converged |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n${rows.join("\n")}`,
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
