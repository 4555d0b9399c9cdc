import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("examples/basic (the README's tour of the core API)", () => {
  it("runs to the end without an error", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "examples/basic/main.ts"], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Done: \d+ comments, \d+ review/);
  }, 90_000);
});
