// The public API, entry by entry: every name each package subpath exports, and what it is. A
// change here is a change to what users hold in their heads (and to semver): update the snapshot
// (`npx vitest run test/architecture/public-api.test.ts -u`) only on purpose.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

const ENTRIES = {
  kalphite: "index.ts",
  "kalphite/react": "react/index.ts",
  "kalphite/flush": "flush/index.ts",
  "kalphite/database": "database/index.ts",
  "kalphite/protocol": "protocol/index.ts",
  "kalphite/sync": "sync/index.ts",
  "kalphite/server": "server/index.ts",
} as const;

/** What a symbol is, as a user sees it: a value kind, or `type` for a type-only export. */
function kind(symbol: ts.Symbol): string {
  const flags = symbol.flags;
  if (flags & ts.SymbolFlags.Class) return "class";
  if (flags & ts.SymbolFlags.Function) return "function";
  if (flags & ts.SymbolFlags.Enum) return "enum";
  if (flags & ts.SymbolFlags.Variable) return "const";
  if (flags & ts.SymbolFlags.Interface) return "interface";
  return "type";
}

/** `name: kind` for every export of each entry, sorted. */
function exportLists(): Record<string, string[]> {
  const files = Object.values(ENTRIES).map((file) => join(SRC, file));
  const config = ts.readConfigFile(resolve(SRC, "../tsconfig.json"), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, resolve(SRC, ".."));
  const program = ts.createProgram(files, { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const lists: Record<string, string[]> = {};
  for (const [entry, file] of Object.entries(ENTRIES)) {
    const source = program.getSourceFile(join(SRC, file));
    const module = source && checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`${file} is not a module`);
    lists[entry] = checker
      .getExportsOfModule(module)
      .map((symbol) => {
        const target =
          symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        return `${symbol.getName()}: ${kind(target)}`;
      })
      .sort();
  }
  return lists;
}

describe("the public API", () => {
  const lists = exportLists();

  it.each(Object.keys(ENTRIES))("%s exports exactly its snapshot", (entry) => {
    expect(lists[entry]).toMatchSnapshot();
  });

  it("kalphite, kalphite/flush and kalphite/database export no internals", () => {
    const internals = [
      "validateEntity",
      "cloneJsonLike",
      "formatIssues",
      "CollectionWriter",
      "createCollectionView",
      "retryDelay",
      "Emitter",
      "parseClientMessage",
      "parseServerMessage",
      "dominates",
      "increment",
      "isConcurrent",
      "mergeVectors",
      "systemClock",
      "importOptional",
    ];
    for (const entry of ["kalphite", "kalphite/flush", "kalphite/database"]) {
      const names = (lists[entry] ?? []).map((line) => line.split(":")[0]);
      expect(
        names.filter((name) => internals.includes(name as string)),
        entry,
      ).toEqual([]);
    }
  });

  it("what each entry exports at run time is exactly its declared values", async () => {
    for (const [entry, file] of Object.entries(ENTRIES)) {
      const module = (await import(join(SRC, file))) as Record<string, unknown>;
      const values = (lists[entry] ?? [])
        .filter((line) => !/: (type|interface)$/.test(line))
        .map((line) => line.split(":")[0]);
      expect(Object.keys(module).sort(), entry).toEqual(values);
    }
  });
});
