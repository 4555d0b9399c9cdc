#!/usr/bin/env node
// kalphite-server: a sync server from the command line.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { KalphiteUsageError } from "../core/index.js";
import { createSyncServer } from "./create-sync-server.js";

const USAGE = `Usage: kalphite-server [--port 8787] [--host 127.0.0.1] [--data-dir ./.data/server] [--postgres URL] [--schema ./schema.js] [--insecure]

  --port       port to listen on (0 = any free port)                     [8787]
  --host       interface to listen on                                     [127.0.0.1]
  --data-dir   embedded PGlite data directory                             [./.data/server]
  --postgres   PostgreSQL URL instead of PGlite (several servers may share it)
  --table-prefix  table prefix in the database                            [kalphite_]
  --schema     a module exporting the entity schema (as "schema" or default); without it any entity with id/type/updatedAt is accepted
  --insecure   development only: no KALPHITE_SECRET, trust the user id clients claim

Tokens: set KALPHITE_SECRET and mint tokens with signToken() from "kalphite/server".`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "8787" },
      host: { type: "string", default: "127.0.0.1" },
      "data-dir": { type: "string", default: "./.data/server" },
      postgres: { type: "string" },
      "table-prefix": { type: "string" },
      schema: { type: "string" },
      insecure: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  let schema: StandardSchemaV1 | undefined;
  if (values.schema) {
    const module = (await import(pathToFileURL(resolve(values.schema)).href)) as {
      schema?: StandardSchemaV1;
      default?: StandardSchemaV1;
    };
    schema = module.schema ?? module.default;
    if (!schema)
      throw new KalphiteUsageError(
        `${values.schema} exports no "schema" or default export: export the entity schema as either.`,
      );
  }
  const server = await createSyncServer({
    port: Number(values.port),
    host: values.host,
    dataDir: values["data-dir"],
    ...(values.postgres ? { postgresUrl: values.postgres } : {}),
    ...(values["table-prefix"] ? { tablePrefix: values["table-prefix"] } : {}),
    ...(schema ? { schema } : {}),
    allowInsecureDevAuth: values.insecure,
  });
  console.log(
    `kalphite-server listening on ${server.url} (${values.postgres ? "PostgreSQL" : `PGlite in ${values["data-dir"]}`})`,
  );
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error(`kalphite-server: ${(error as Error).message}`);
  console.error(USAGE);
  process.exit(1);
});
