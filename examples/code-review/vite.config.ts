import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

/** The code-review demo. `server.ts` builds it with this config; `npx vite examples/code-review` serves it for development. */
export default defineConfig({
  root,
  plugins: [react()],
  // PGlite loads its WebAssembly and data files by URL; pre-bundling would break those URLs.
  optimizeDeps: { exclude: ["@electric-sql/pglite"] },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 2048,
    // PGlite's bundle uses a direct eval on purpose (Emscripten); the timing report is noise here.
    rolldownOptions: { checks: { eval: false, pluginTimings: false } },
  },
  worker: { format: "es" },
});
