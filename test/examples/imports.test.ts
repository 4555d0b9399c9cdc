import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { KalphiteStore } from "kalphite";
import { DEFAULT_LIMITS } from "kalphite/protocol";
import { describe, expect, it } from "vitest";
import { MAX_COMMENT_BYTES } from "../../examples/code-review/src/comment-limits.js";
import { KalphiteStore as KalphiteStoreFromSources } from "../../src/index.js";
import { DEFAULT_LIMITS as DEFAULT_LIMITS_FROM_SOURCES } from "../../src/protocol/index.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const examples = join(root, "examples");

/** Every TypeScript source of the examples (their builds left out). */
function exampleSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      return entry.name === "dist" || entry.name === "node_modules" ? [] : exampleSources(path);
    }
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

/** The module specifiers of every `import`/`export ... from` in `source`. */
function specifiers(source: string): string[] {
  return [...source.matchAll(/\bfrom\s+"([^"]+)"/g)].map((match) => match[1]!);
}

const imports = exampleSources(examples).map((file) => ({
  file: relative(root, file),
  specifiers: specifiers(readFileSync(file, "utf8")),
}));
const kalphiteSpecifiers = [
  ...new Set(
    imports.flatMap(({ specifiers }) => specifiers.filter((s) => /^kalphite(\/|$)/.test(s))),
  ),
].sort();

/** Where `src/<entry>/index.ts` is for a specifier `kalphite` or `kalphite/<entry>`. */
function sourceOf(specifier: string): string {
  const entry = specifier.slice("kalphite".length);
  return pathToFileURL(join(root, "src", entry, "index.ts")).href;
}

describe("the examples import the library by its package name, resolved to src/", () => {
  it("import `kalphite` and `kalphite/<entry>`, never a path into src/", () => {
    const intoSources = imports.flatMap(({ file, specifiers }) =>
      specifiers.filter((s) => /^(\.\.\/)+src\//.test(s)).map((s) => `${file}: ${s}`),
    );
    expect(intoSources).toEqual([]);
    expect(kalphiteSpecifiers).toContain("kalphite");
    expect(kalphiteSpecifiers.length).toBeGreaterThan(1);
  });

  it("tsx (npm start, examples/basic) loads the sources, not the package's dist/", () => {
    const script = `for (const s of ${JSON.stringify(kalphiteSpecifiers)}) console.log(import.meta.resolve(s));`;
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "--eval", script],
      { cwd: root, encoding: "utf8", timeout: 30_000 },
    );
    expect(run.stderr).toBe("");
    expect(run.stdout.trim().split("\n")).toEqual(kalphiteSpecifiers.map(sourceOf));
  }, 60_000);

  it("vitest gives a test the same modules as a relative import of src/", () => {
    expect(KalphiteStore).toBe(KalphiteStoreFromSources);
    expect(DEFAULT_LIMITS).toBe(DEFAULT_LIMITS_FROM_SOURCES);
    expect(MAX_COMMENT_BYTES).toBeLessThan(DEFAULT_LIMITS_FROM_SOURCES.maxMessageBytes);
  });
});
