// A client that stops reading is closed with 1013 once its unsent backlog passes the limit: the
// server never holds what it owes it, and everyone else's round trips carry on.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type CountingRawClient, countingRawClient } from "../support/raw-client.js";
import { SECRET, startServerProcess, tempDir, uniqueName, withTimeout } from "./helpers.js";

const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

const join = (url: string, room: string, userId: string) =>
  withTimeout(
    countingRawClient({ url, room, userId, secret: SECRET }),
    20_000,
    `${userId} to join`,
  );

describe("backpressure", () => {
  it("closes a paused reader owed 150 MiB with 1013; the server grows < 50 MiB; others' round trips stay fast", async () => {
    const dir = tempDir();
    const server = await startServerProcess(["--port", "0", "--data-dir", dir.path]);
    const pid = server.child.pid as number;
    try {
      const room = uniqueName("backlog");
      const writers = await Promise.all(
        Array.from({ length: 4 }, (_, i) => join(server.url, room, `w${i}`)),
      );
      const body = "x".repeat(8 * 1024);
      const total = 19_200; // × 8 KiB ≈ 150 MiB to every reader
      // Writers keep up to 8 writes in flight each, so they go at the pace the server stores (its
      // inbound queue stays small), and at most one write per writer per 7 ms tick, under the
      // server's rate limit (200 per second per connection): these raw clients do not resend
      // what it refuses, so a faster server must not make them flood. The probe's round trips
      // are timed throughout.
      const writeAll = (probe: CountingRawClient) =>
        withTimeout(
          new Promise<void>((resolve) => {
            let written = 0;
            const pace = setInterval(() => {
              for (const w of writers)
                if (w.sent - w.acks.size < 8 && written < total) {
                  w.write({ body });
                  written++;
                }
              if (probe.sent === probe.acks.size) probe.write({ body: "ping" });
              if (written >= total && writers.every((w) => w.acks.size === w.sent)) {
                clearInterval(pace);
                resolve();
              }
            }, 7);
          }),
          240_000,
          "the writes",
        );
      // Warm up: PGlite's WebAssembly heap grows to its working size once (it never shrinks),
      // whoever reads; the measured phase below then shows what the paused reader costs.
      const warmProbe = await join(server.url, room, "warm-probe");
      let warmPeak = rssMiB(pid);
      const warmSampler = setInterval(() => {
        warmPeak = Math.max(warmPeak, rssMiB(pid));
      }, 100);
      await writeAll(warmProbe);
      clearInterval(warmSampler);
      warmProbe.socket.close();
      const probe = await join(server.url, room, "probe");
      const paused = await join(server.url, room, "sleepy");
      paused.socket.pause(); // stops reading: the server's sends to it pile up
      // The server's working set under this load without a paused reader: the higher of its
      // peak during the warm-up and its size now. What the paused reader adds is above it.
      const before = Math.max(warmPeak, rssMiB(pid));
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssMiB(pid));
      }, 100);
      await writeAll(probe);
      clearInterval(sampler);
      // Reading again, it gets what the sockets' buffers held, then the close: the server did
      // not keep the rest. (It closed with 1013 long before; the close frame sat behind unsent
      // data, which ws gives up on after 30 s, so the reader may see 1006. The 1013 itself is
      // checked on the hub in hub-backlog.test.ts.)
      paused.socket.resume();
      const code = await withTimeout(paused.closed, 60_000, "the paused reader to be closed");
      expect(writers.flatMap((w) => w.errors)).toEqual([]);
      expect([1013, 1006]).toContain(code);
      expect(paused.bytes).toBeLessThan(40 * 2 ** 20);
      const trips = [...probe.acks.values()].sort((a, b) => a - b);
      const p50 = trips[Math.floor(trips.length / 2)] as number;
      const p99 = trips[Math.floor(trips.length * 0.99)] as number;
      console.log(
        `backpressure: the paused reader got ${(paused.bytes / 2 ** 20).toFixed(1)} MiB of ~150 and was closed (${code}); server RSS peak ${before.toFixed(0)} MiB without it → ${peak.toFixed(0)} MiB with it; probe round trips p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms over ${trips.length}`,
      );
      expect(peak - before).toBeLessThan(50);
      expect(trips.length).toBeGreaterThan(20);
      expect(p50).toBeLessThan(100);
      for (const c of [...writers, probe]) c.socket.close();
    } finally {
      await server.kill();
      dir.remove();
    }
  }, 600_000);
});
