import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { Entity } from "../fixtures/schema.js";

const CHILD = fileURLToPath(new URL("./fixtures/child.ts", import.meta.url));
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "kalphite-proc-"));
  dirs.push(dir);
  return join(dir, "data");
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function start(...args: string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Resolves with the first stdout line matching `test`; rejects if the child exits first. */
function lineFrom(child: ChildProcess, test: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    let stderr = "";
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    child.stdout!.on("data", (chunk) => {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      const found = lines.find(test);
      if (found !== undefined) resolve(found);
    });
    child.on("exit", (code) =>
      reject(new Error(`child exited (${code}) before the line: ${stderr}`)),
    );
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.on("exit", (code) => resolve(code));
  });
}

async function readBack(dataDir: string): Promise<Entity[]> {
  const reader = start("read", dataDir);
  const line = await lineFrom(reader, (l) => l.startsWith("["));
  expect(await exited(reader)).toBe(0);
  return JSON.parse(line);
}

describe("a Node data directory across processes", () => {
  it("reads back in a second process everything the first one flushed", async () => {
    const dataDir = tempDir();
    const writer = start("write", dataDir, "200");
    await lineFrom(writer, (l) => l === "flushed");
    expect(await exited(writer)).toBe(0);
    const entities = await readBack(dataDir);
    const comments = entities.filter((e) => e.type === "comment");
    expect(comments).toHaveLength(199); // c0 was deleted
    expect(comments.find((e) => e.id === "c0")).toBeUndefined();
    expect(comments.find((e) => e.id === "c199")).toMatchObject({ data: { lineNumber: 199 } });
  }, 180_000);

  it("loses nothing flushed when the process is killed with SIGKILL right after flush()", async () => {
    const dataDir = tempDir();
    const writer = start("write-then-hang", dataDir, "300");
    await lineFrom(writer, (l) => l === "flushed");
    writer.kill("SIGKILL");
    await exited(writer);
    expect(writer.signalCode).toBe("SIGKILL");
    const entities = await readBack(dataDir);
    const comments = entities.filter((e) => e.type === "comment");
    expect(comments).toHaveLength(299);
    expect(new Set(comments.map((e) => e.id)).has("c299")).toBe(true);
    // Reviews written after the flush may or may not have landed; whatever did is intact.
    for (const review of entities.filter((e) => e.type === "review")) {
      expect(review).toMatchObject({ type: "review", data: { title: "late" } });
    }
  }, 180_000);
});
