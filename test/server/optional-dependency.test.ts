// pg and ws are optional peer dependencies: kalphite/server loads them where they are needed and,
// when one is not installed, says which package to install. (test/package checks the same on a
// packed install without them.)
import { describe, expect, it } from "vitest";
import { KalphiteError, KalphiteUsageError } from "../../src/core/index.js";
import { importOptional } from "../../src/server/optional-dependency.js";

/** An importer for a project where `missing` is not installed: Node's own error for it. */
function without(missing: string) {
  return async (name: string) => {
    if (name !== missing) return import(name);
    const error = new Error(
      `Cannot find package '${name}' imported from /app/node_modules/kalphite/dist/server/x.js`,
    ) as Error & { code: string };
    error.code = "ERR_MODULE_NOT_FOUND";
    throw error;
  };
}

describe("importOptional", () => {
  it.each([
    ["ws", /"ws" is not installed.*sync server's WebSocket.*npm install ws/],
    ["pg", /"pg" is not installed.*PostgreSQL storage.*npm install pg/],
  ] as const)(
    "names the missing package %s, what needs it and how to install it",
    async (name, message) => {
      const error = await importOptional(name, without(name)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KalphiteUsageError);
      expect(error).toBeInstanceOf(KalphiteError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).cause).toMatchObject({ code: "ERR_MODULE_NOT_FOUND" });
    },
  );

  it("loads an installed package (pg through its CommonJS default export)", async () => {
    const ws = await importOptional<typeof import("ws")>("ws");
    expect(typeof ws.WebSocketServer).toBe("function");
    const pg = await importOptional<typeof import("pg")>("pg");
    expect(typeof pg.Pool).toBe("function");
    expect(typeof pg.Client).toBe("function");
  });

  it("passes other failures through: a missing package of the package's own is not reported as it", async () => {
    const broken = async () => {
      const error = new Error("Cannot find package 'pg-protocol' imported from pg") as Error & {
        code: string;
      };
      error.code = "ERR_MODULE_NOT_FOUND";
      throw error;
    };
    await expect(importOptional("pg", broken)).rejects.toThrow(/pg-protocol/);
    await expect(importOptional("pg", broken)).rejects.not.toBeInstanceOf(KalphiteUsageError);
  });
});
