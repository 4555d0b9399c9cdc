import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** Every file reachable from `entry` through relative imports, with its bare imports. */
function graph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = readFileSync(file, "utf8");
    const specifiers = [
      ...text.matchAll(
        /(?:import|export)[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g,
      ),
    ].map((m) => (m[1] ?? m[2])!);
    seen.set(
      file,
      specifiers.filter((s) => !s.startsWith(".")),
    );
    for (const s of specifiers.filter((s) => s.startsWith(".")))
      visit(join(dirname(file), s.replace(/\.js$/, ".ts")));
  };
  visit(entry);
  return seen;
}

describe("entry points", () => {
  it("`kalphite` never loads PGlite; only `kalphite/database` does", () => {
    const core = [...graph(join(SRC, "index.ts")).values()].flat();
    expect(core.some((s) => s.includes("pglite"))).toBe(false);
    const database = [...graph(join(SRC, "database/index.ts")).values()].flat();
    expect(database).toContain("@electric-sql/pglite");
  });

  it("flush and database code is browser-safe: no node: imports", () => {
    for (const [file, bare] of graph(join(SRC, "database/index.ts"))) {
      expect(
        bare.filter((s) => s.startsWith("node:")),
        file,
      ).toEqual([]);
    }
  });
});
