import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));
const outDir = join(root, "dist");
const librarySources = fileURLToPath(new URL("../../src", import.meta.url));

/**
 * The demo imports `kalphite` and `kalphite/<entry>` as a user's app would; these map them to
 * the library's sources (as tsconfig.json's `paths` do for TypeScript and tsx), so the demo runs
 * from a fresh clone without a build of dist/, and a change in src/ shows up in the next build.
 */
const kalphiteSources = [
  { find: /^kalphite$/, replacement: join(librarySources, "index.ts") },
  { find: /^kalphite\/([a-z]+)$/, replacement: join(librarySources, "$1", "index.ts") },
];

/** Every file under `dir`, as paths from it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory()
      ? filesUnder(path).map((file) => `${name}/${file}`)
      : [name];
  });
}

/**
 * Writes dist/sw.js (from service-worker.js) once the build is on disk, listing every file of
 * the build (worker chunks and PGlite's wasm and data included) for the service worker to cache
 * when it installs. Its version is a hash of the file names (content-hashed), so a new build
 * replaces the cache.
 */
function serviceWorker(): Plugin {
  return {
    name: "kalphite-review:service-worker",
    apply: "build",
    writeBundle() {
      const files = filesUnder(outDir)
        .filter((file) => !/\.(map|br|gz)$/.test(file) && file !== "sw.js")
        .map((file) => `/${file.split(sep).join("/")}`)
        .sort();
      const precache = ["/", ...files.filter((file) => file !== "/index.html")];
      const version = createHash("sha256").update(files.join("\n")).digest("hex").slice(0, 12);
      const source = readFileSync(join(root, "service-worker.js"), "utf8")
        .replace("__VERSION__", version)
        .replace("__PRECACHE__", JSON.stringify(precache));
      writeFileSync(join(outDir, "sw.js"), source);
    },
  };
}

/**
 * The build's settings for the page's bundle and the worker's alike. PGlite's bundle uses a
 * direct eval on purpose (Emscripten), and imports `node:module` on its Node code path only (a
 * browser never takes it), so Vite's warnings about either would read as errors to a user of
 * `npm start` while being expected: they are left out, every other warning is shown.
 */
const rolldownOptions = {
  checks: { eval: false, pluginTimings: false },
  onLog(
    level: string,
    log: { message: string },
    handler: (level: never, log: { message: string }) => void,
  ) {
    if (/Module "node:[a-z]+" has been externalized for browser compatibility/.test(log.message))
      return;
    handler(level as never, log);
  },
};

/** The code-review demo. `server.ts` builds it with this config; `npx vite examples/code-review` serves it for development. */
export default defineConfig({
  root,
  plugins: [react(), serviceWorker()],
  resolve: { alias: kalphiteSources },
  // PGlite loads its WebAssembly and data files by URL; pre-bundling would break those URLs.
  optimizeDeps: { exclude: ["@electric-sql/pglite"] },
  build: {
    outDir,
    emptyOutDir: true,
    target: "es2022",
    // KALPHITE_DEMO_MINIFY=0 keeps names readable in a CPU profile (bench/browser/profile.ts).
    minify: process.env.KALPHITE_DEMO_MINIFY !== "0",
    chunkSizeWarningLimit: 2048,
    rolldownOptions,
  },
  worker: { format: "es", rolldownOptions },
});
