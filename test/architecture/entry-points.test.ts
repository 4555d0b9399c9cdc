// What loading each entry point pulls in, following its imports through src/ (type-only imports
// load nothing): the packages a user's bundle or process gets. Which folder may import which is
// layers.test.ts; this checks the packages at the end of those imports.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/**
 * Every module `entry` loads, following relative imports, and the packages they import:
 * `static` at load time, `lazy` through `import("...")` when first needed.
 */
function load(entry: string): { files: Set<string>; static: Set<string>; lazy: Set<string> } {
  const files = new Set<string>();
  const loaded = { static: new Set<string>(), lazy: new Set<string>() };
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, "utf8");
    const statements = text.matchAll(
      /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?["']([^"']+)["']/gm,
    );
    for (const [, , typeOnly, specifier] of statements) {
      if (typeOnly || specifier === undefined) continue;
      if (specifier.startsWith("."))
        visit(resolve(dirname(file), specifier.replace(/\.js$/, ".ts")));
      else loaded.static.add(specifier);
    }
    for (const [, specifier] of text.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)) {
      if (specifier === undefined) continue;
      if (specifier.startsWith("."))
        visit(resolve(dirname(file), specifier.replace(/\.js$/, ".ts")));
      else loaded.lazy.add(specifier);
    }
  };
  visit(resolve(SRC, entry));
  return { files, ...loaded };
}

const all = (entry: string) => {
  const { static: s, lazy } = load(entry);
  return [...s, ...lazy];
};

describe("entry points", () => {
  it("`kalphite` loads only @preact/signals-core: no PGlite, ws, pg or React", () => {
    const { files, static: packages, lazy } = load("index.ts");
    expect(files.size).toBeGreaterThan(3);
    expect([...packages, ...lazy].sort()).toEqual(["@preact/signals-core"]);
  });

  it("kalphite/react loads React and the core, nothing else", () => {
    const { files } = load("react/index.ts");
    expect(all("react/index.ts").sort()).toEqual(["@preact/signals-core", "react"]);
    expect(
      [...files].filter((file) => !/\/src\/(react|core)\/|\/src\/index\.ts$/.test(file)),
    ).toEqual([]);
  });

  it("only kalphite/database (and the server's PGlite storage) loads PGlite", () => {
    expect(all("database/index.ts")).toContain("@electric-sql/pglite");
    for (const entry of [
      "index.ts",
      "flush/index.ts",
      "protocol/index.ts",
      "sync/index.ts",
      "react/index.ts",
    ])
      expect(
        all(entry).filter((name) => name.includes("pglite")),
        entry,
      ).toEqual([]);
  });

  it("client code is browser-safe: no node: imports in core, flush, database, protocol, sync, react", () => {
    for (const entry of [
      "index.ts",
      "flush/index.ts",
      "database/index.ts",
      "protocol/index.ts",
      "sync/index.ts",
      "react/index.ts",
    ])
      expect(
        all(entry).filter((name) => name.startsWith("node:")),
        entry,
      ).toEqual([]);
  });

  it("kalphite/server loads pg and ws only when they are needed (they are optional peers)", () => {
    const server = load("server/index.ts");
    expect([...server.static].filter((name) => name === "pg" || name === "ws")).toEqual([]);
  });
});
