// The package as a user gets it: built, packed, installed into a fresh TypeScript project, and
// imported through every subpath with types, under both `bundler` and `node16` resolution.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const SUBPATHS = [
  "kalphite",
  "kalphite/react",
  "kalphite/flush",
  "kalphite/database",
  "kalphite/protocol",
  "kalphite/sync",
  "kalphite/server",
];
let work: string;
let tarball: string;

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "kalphite-package-"));
  run("npm", ["run", "build"], root);
  run("npm", ["pack", "--pack-destination", work], root);
  const found = readdirSync(work).find((file) => file.endsWith(".tgz"));
  if (!found) throw new Error("npm pack produced no tarball");
  tarball = join(work, found);
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * The most `kalphite` may add to an app, minified and gzipped, without `@preact/signals-core`
 * (which the app may share). It was 7.3 KB when set, and was raised once, to 12 KB, when the
 * live-query windows, aggregates and joins (about 4.5 KB min+gzip, methods of every live query,
 * so not tree-shaken) joined the core, and a second time, to 12.5 KB, for three fixes of wrong
 * results: writes made during a write (by a listener, a subscriber or an effect) delivered in
 * order from one queue, walked after the write that caused them, outside any effect's tracking
 * (about 250 bytes; before, such a write could reach a flush target out of order or leave a row
 * twice in a query), and exact running sums for `sum`/`avg` (about 110 bytes; before, a sum
 * drifted from its rows' sum as rows left), and live results rebuilt after a user's key or
 * predicate threw (about 150 bytes; before, they kept missing that write, or held its row twice,
 * for good), and about 230 bytes for sums that overflow and come back (before, NaN for good), a
 * join's own version (before, a query over it read during a write stayed stale) and one unmatched
 * row object per left row. The goal is still under 6 KB
 * ({@link CORE_GOAL_BYTES}). Lower it whenever the core shrinks; raising it needs a reason.
 */
const CORE_BUDGET_BYTES = 12_750;
const CORE_GOAL_BYTES = 6_000;

describe("the core entry", () => {
  it(`bundles without PGlite, ws, pg or React, within ${CORE_BUDGET_BYTES} bytes min+gzip`, async () => {
    const result = await build({
      entryPoints: [join(root, "dist/index.js")],
      bundle: true,
      minify: true,
      format: "esm",
      platform: "browser",
      write: false,
      metafile: true,
      external: ["@preact/signals-core"],
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((file) => /pglite|node_modules\/(ws|pg|react)\//.test(file))).toEqual([]);
    const bytes = gzipSync(result.outputFiles[0]!.contents).length;
    console.log(
      `kalphite core: ${bytes} bytes min+gzip without @preact/signals-core (budget ${CORE_BUDGET_BYTES}, goal under ${CORE_GOAL_BYTES})`,
    );
    expect(
      bytes,
      "the core bundle grew past its budget (see CORE_BUDGET_BYTES)",
    ).toBeLessThanOrEqual(CORE_BUDGET_BYTES);
  });
});

describe("installed into a fresh project", () => {
  let project: string;

  beforeAll(() => {
    project = join(work, "app");
    mkdirSync(project);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "app", private: true, type: "module" }, null, 2),
    );
    run(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        tarball,
        "typescript@~5.9.3",
        "@types/node@20",
        "@types/react@19",
        "react@19",
        "arktype@2",
      ],
      project,
    );
    writeFileSync(
      join(project, "index.ts"),
      `import { type } from "arktype";
import { KalphiteStore, KalphiteValidationError, type TypedCollection } from "kalphite";
import { useValue, useLiveQuery } from "kalphite/react";
import { MemoryFlushEngine } from "kalphite/flush";
import { FrontendDatabase, persist } from "kalphite/database";
import { NetworkSyncEngine } from "kalphite/sync";
import { createSyncServer } from "kalphite/server";

const Entity = type({ id: "string", type: "'note'", updatedAt: "number", data: { text: "string" } });
const store = KalphiteStore(Entity);
const notes: TypedCollection<typeof Entity.infer> = store.note;
const stored = notes.upsert("n1", { id: "n1", type: "note", updatedAt: 1, data: { text: "hi" } });
const text: string = stored.data.text;
// @ts-expect-error: no such collection
store.nothing;
export { text, KalphiteValidationError, MemoryFlushEngine, useValue, useLiveQuery, FrontendDatabase, persist, NetworkSyncEngine, createSyncServer };
`,
    );
    writeFileSync(
      join(project, "run.mjs"),
      `import { KalphiteStore } from "kalphite";
${SUBPATHS.slice(1)
  .map((path, i) => `import * as m${i} from "${path}";`)
  .join("\n")}
const loaded = [${SUBPATHS.slice(1)
        .map((_, i) => `m${i}`)
        .join(", ")}].map((m) => Object.keys(m).length);
// pg and ws are optional peers, not installed here: the server entry loads, and what needs
// them says which package to install.
const { createSyncServer, postgresStorage } = await import("kalphite/server");
const missing = async (start) => start().then(() => "started", (error) => \`\${error.name}: \${error.message}\`);
const server = await missing(() => createSyncServer({ port: 0, allowInsecureDevAuth: true, warn: () => {} }));
const postgres = await missing(() => postgresStorage({ url: "postgres://127.0.0.1:1/none" }));
console.log(JSON.stringify({ store: typeof KalphiteStore, loaded, server, postgres }));
`,
    );
  }, 300_000);

  for (const moduleResolution of ["bundler", "node16"] as const) {
    it(`type-checks every subpath with moduleResolution ${moduleResolution}`, () => {
      const module = moduleResolution === "bundler" ? "ESNext" : "Node16";
      writeFileSync(
        join(project, `tsconfig.${moduleResolution}.json`),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module,
            moduleResolution,
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            lib: ["ES2023", "DOM"],
            types: ["node"],
          },
          files: ["index.ts"],
        }),
      );
      run(
        join(project, "node_modules/.bin/tsc"),
        ["-p", `tsconfig.${moduleResolution}.json`],
        project,
      );
    }, 240_000);
  }

  it("imports every subpath at run time", () => {
    const output = JSON.parse(run(process.execPath, ["run.mjs"], project)) as {
      store: string;
      loaded: number[];
      server: string;
      postgres: string;
    };
    expect(output.store).toBe("function");
    expect(output.loaded.every((count) => count > 0)).toBe(true);
    // Neither was installed with kalphite (optional peers), and each failure names its package.
    expect(existsSync(join(project, "node_modules/ws"))).toBe(false);
    expect(existsSync(join(project, "node_modules/pg"))).toBe(false);
    expect(output.server).toMatch(
      /^KalphiteUsageError: The package "ws" is not installed.*npm install ws/,
    );
    expect(output.postgres).toMatch(
      /^KalphiteUsageError: The package "pg" is not installed.*npm install pg/,
    );
  });
});
