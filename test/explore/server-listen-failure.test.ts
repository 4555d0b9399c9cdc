import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { KalphiteError } from "../../src/index.js";
import { createSyncServer } from "../../src/server/index.js";
import { Entity } from "../fixtures/schema.js";
import { cleanupAfterEach, tempDir } from "../server/helpers.js";

const cleanups = cleanupAfterEach();

/** A port something else listens on. */
async function busyPort(): Promise<number> {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  return (blocker.address() as { port: number }).port;
}

describe("a sync server that cannot listen", { timeout: 120_000 }, () => {
  it("rejects with a KalphiteError and releases the storage it opened", async () => {
    const port = await busyPort();
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const options = {
      schema: Entity,
      allowInsecureDevAuth: true,
      warn: () => {},
      dataDir: dir.path,
    };
    const error = await createSyncServer({ ...options, port }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KalphiteError);
    expect((error as Error).message).toContain(String(port));
    // The data directory is free again: a server on a free port opens it.
    const server = await createSyncServer({ ...options, port: 0 });
    cleanups.push(() => server.close());
    expect(server.port).toBeGreaterThan(0);
  });
});
