import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const librarySources = fileURLToPath(new URL("./src/", import.meta.url));

export default defineConfig({
  // The examples import `kalphite` and `kalphite/<entry>` as a user would; a test that imports an
  // example's module gets the sources, as tsconfig.json's `paths` map them for TypeScript and tsx.
  resolve: {
    alias: [
      { find: /^kalphite$/, replacement: `${librarySources}index.ts` },
      { find: /^kalphite\/([a-z]+)$/, replacement: `${librarySources}$1/index.ts` },
    ],
  },
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    exclude: ["test/e2e/**", "node_modules/**"],
    // A PostgreSQL server for the PostgreSQL suites: the one at KALPHITE_TEST_POSTGRES_URL or
    // 127.0.0.1:5432 if it answers, else an embedded one started for the run (see the file).
    globalSetup: ["test/support/postgres-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    typecheck: {
      enabled: true,
      include: ["test/**/*.test-d.ts"],
      tsconfig: "./tsconfig.json",
    },
  },
});
