// The layer import matrix of the design: a layer imports only the layers to its right.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** What each folder of src/ may import (besides itself); files at the root are the entry. */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  internal: ["core"],
  flush: ["core", "internal"],
  database: ["core", "internal", "flush"],
  protocol: ["core", "internal"],
  sync: ["core", "internal", "protocol"],
  server: ["core", "internal", "protocol", "database/dir-lock.ts"],
  react: ["core"],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [
    ...text.matchAll(
      /(?:import|export)[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g,
    ),
  ]
    .map((m) => (m[1] ?? m[2]) as string)
    .filter((s) => s.startsWith("."));
}

describe("layers", () => {
  it("each folder of src/ imports only the folders the design allows", () => {
    const violations: string[] = [];
    for (const file of files(SRC)) {
      const from = relative(SRC, file).split("/");
      if (from.length < 2) continue; // the root entry may re-export any layer
      const layer = from[0] as string;
      const allowed = ALLOWED[layer];
      if (!allowed) {
        violations.push(`${relative(SRC, file)}: folder ${layer} is not in the design's matrix`);
        continue;
      }
      for (const specifier of relativeImports(file)) {
        const target = relative(SRC, resolve(dirname(file), specifier.replace(/\.js$/, ".ts")));
        const targetLayer = target.split("/")[0] as string;
        if (targetLayer === layer) continue;
        if (allowed.includes(targetLayer) || allowed.includes(target)) continue;
        violations.push(`${relative(SRC, file)} imports ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
