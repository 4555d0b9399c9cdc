import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** Every module `entry` loads, following relative imports (type-only imports load nothing). */
function moduleGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
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
      else packages.add(specifier);
    }
    for (const [, specifier] of text.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)) {
      if (specifier !== undefined && !specifier.startsWith(".")) packages.add(specifier);
    }
  };
  visit(entry);
  return { files, packages };
}

describe("entry points", () => {
  it("importing kalphite never loads React", () => {
    const { files, packages } = moduleGraph(resolve(src, "index.ts"));
    expect(files.size).toBeGreaterThan(3);
    expect(
      [...packages].filter(
        (name) => name === "react" || name.startsWith("react-") || name.startsWith("react/"),
      ),
    ).toEqual([]);
    expect([...files].filter((file) => file.startsWith(resolve(src, "react")))).toEqual([]);
  });

  it("kalphite/react loads React and the core, nothing else", () => {
    const { packages } = moduleGraph(resolve(src, "react/index.ts"));
    expect([...packages].sort()).toEqual(["@preact/signals-core", "react"]);
  });

  it("kalphite/react exports the hooks", async () => {
    const react = await import("../../src/react/index.js");
    expect(Object.keys(react).sort()).toEqual([
      "KalphiteProvider",
      "useCollection",
      "useEntity",
      "useKalphiteContext",
      "useKalphiteStore",
      "useLiveGroups",
      "useLiveQuery",
      "useLiveWindow",
      "useSignalValue",
      "useValue",
    ]);
  });
});
