// A server frozen under load (SIGSTOP for 15 s) disconnects and refuses nobody: the changes its
// clients kept sending at a fair pace arrive at once when it resumes, and all are stored.
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { countingRawClient } from "../support/raw-client.js";
import { SECRET, startServerProcess, tempDir, uniqueName, withTimeout } from "./helpers.js";

const loadClient = (url: string, room: string, userId: string) =>
  withTimeout(
    countingRawClient({ url, room, userId, secret: SECRET }),
    20_000,
    `${userId} to join`,
  );

describe("a stalled server", () => {
  it("SIGSTOP for 15 s under load: no client refused or disconnected, nothing lost", async () => {
    const dir = tempDir();
    const server = await startServerProcess(["--port", "0", "--data-dir", dir.path]);
    try {
      const room = uniqueName("stall");
      const users = Array.from({ length: 20 }, (_, i) => `u${i}`);
      const clients = await Promise.all(users.map((u) => loadClient(server.url, room, u)));
      // 20 clients × 50 changes/s (1,000/s), the pace the issue measured disconnects at.
      const pace = setInterval(() => {
        for (const c of clients) if (c.socket.readyState === WebSocket.OPEN) c.write({ n: c.sent });
      }, 20);
      const phase = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      await phase(2_000);
      server.child.kill("SIGSTOP");
      await phase(15_000); // the stall itself is the scenario
      server.child.kill("SIGCONT");
      await phase(2_000);
      clearInterval(pace);
      const sent = clients.reduce((n, c) => n + c.sent, 0);
      await withTimeout(
        new Promise<void>((resolve) => {
          const check = setInterval(() => {
            if (clients.every((c) => c.acks.size === c.sent || c.closeCode !== undefined)) {
              clearInterval(check);
              resolve();
            }
          }, 50);
        }),
        60_000,
        "every change to be acknowledged",
      );
      expect(clients.map((c) => c.closeCode)).toEqual(clients.map(() => undefined));
      expect(clients.flatMap((c) => c.errors)).toEqual([]);
      expect(clients.reduce((n, c) => n + c.acks.size, 0)).toBe(sent);
      // The stall alone held ~750 changes per client, past the burst (400) charged on arrival.
      expect(sent).toBeGreaterThan(10_000);
      for (const c of clients) c.socket.close();
    } finally {
      server.child.kill("SIGCONT");
      await server.kill();
      dir.remove();
    }
  }, 150_000);
});
