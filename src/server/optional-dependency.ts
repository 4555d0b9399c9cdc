// `pg` and `ws` are optional peer dependencies: an app that uses only the client (a browser app)
// does not install them. kalphite/server loads each where it is first needed, and says which
// package to install when it is missing instead of failing at import with a resolution error.
import { KalphiteUsageError } from "../core/index.js";

/** Loads a module by name: `(name) => import(name)` unless a test injects another. @internal */
export type Importer = (name: string) => Promise<unknown>;

/** The server's optional packages, and what needs each. */
const NEEDED_FOR = {
  pg: "PostgreSQL storage (postgresStorage, createSyncServer({ postgresUrl }), kalphite-server --postgres)",
  ws: "the sync server's WebSocket (createSyncServer, kalphite-server)",
} as const;

export type OptionalPackage = keyof typeof NEEDED_FOR;

const nativeImport: Importer = (name) => import(name);

/**
 * Imports the optional package `name`, or throws a `KalphiteUsageError` that names it, what needs
 * it and how to install it. Errors other than "not installed" pass through unchanged.
 *
 * @internal
 * @example const { WebSocketServer } = await importOptional<typeof import("ws")>("ws");
 */
export async function importOptional<T>(
  name: OptionalPackage,
  importer: Importer = nativeImport,
): Promise<T> {
  try {
    const module = (await importer(name)) as { default?: unknown };
    // A CommonJS package (pg) puts its exports on `default`.
    return (name === "pg" ? (module.default ?? module) : module) as T;
  } catch (error) {
    if (!isNotFound(error, name)) throw error;
    throw new KalphiteUsageError(
      `The package "${name}" is not installed, and kalphite/server needs it for ${NEEDED_FOR[name]}. Install it beside kalphite: npm install ${name}`,
      { cause: error },
    );
  }
}

function isNotFound(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    typeof message === "string" &&
    message.includes(`'${name}'`)
  );
}
