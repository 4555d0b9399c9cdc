/**
 * What the browser tests stand on: the demo server as a child process (exactly what `npm start`
 * runs), Debian's Chromium through playwright-core, and polling assertions (no fixed sleeps).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const screenshotDir = join(repoRoot, "test/e2e/screenshots");

/** How long a page condition may take: a reconnect with backoff, a PGlite start in the page. */
export const TIMEOUT = Number(process.env.E2E_TIMEOUT ?? 20_000);
/** How long opening the app may take: a first visit initialises PGlite in the page. */
export const OPEN_TIMEOUT = Number(process.env.E2E_OPEN_TIMEOUT ?? 120_000);

// ---------------------------------------------------------------------------------------------
// The demo server

export interface DemoServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Everything the server printed, for failure reports. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited after 5 s. */
  stop(): Promise<void>;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), "kalphite-e2e-"));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Starts `examples/code-review/server.ts` and resolves once it prints its URL. */
export function startServer({
  port = 0,
  dataDir,
}: {
  port?: number;
  dataDir: string;
}): Promise<DemoServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", join(repoRoot, "examples/code-review/server.ts")],
    {
      cwd: repoRoot,
      env: { ...process.env, PORT: String(port), DATA_DIR: dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  const exited = new Promise<void>((done) => child.once("exit", () => done()));

  return new Promise<DemoServer>((resolveStart, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`The demo server did not start within 180 s:\n${output}`));
    }, 180_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Kalphite code review: (http:\/\/\S+?)\/\?room=/.exec(output);
      if (match) {
        clearTimeout(timer);
        const url = match[1]!;
        resolveStart({
          url,
          port: Number(new URL(url).port),
          dataDir,
          output: () => output,
          async stop() {
            if (child.exitCode !== null || child.signalCode !== null) return;
            child.kill("SIGTERM");
            const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
            await exited;
            clearTimeout(killer);
          },
        });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`The demo server exited (${signal ?? code}) before it was ready:\n${output}`),
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The browser

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-quic",
      "--disable-sync",
    ],
  });
}

/** A way to the demo server whose sync endpoint can be cut (see `syncSwitch`). */
export interface SyncSwitch {
  /** The app's address through this way: open pages here. */
  readonly url: string;
  /** Closes every sync connection through here and refuses new ones; the page still loads. */
  block(): void;
  unblock(): void;
  /** Keeps every sync connection open but passes nothing from the pages to the server. */
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

/**
 * Makes the sync server unreachable for the pages opened through it, while the app itself still
 * loads: a proxy on its own port in front of the server (at `serverPort`, so a restarted server
 * is reached again), which, while blocked, closes every WebSocket and refuses new ones. The
 * demo's WebSocket lives in a worker, where Playwright's WebSocket routing does not reach, and
 * Chromium's offline mode and URL blocking leave WebSockets alone, so neither can do this.
 * The proxy's port is another origin than the server's: its pages have their own storage.
 */
export async function syncSwitch(serverPort: () => number): Promise<SyncSwitch> {
  let blocked = false;
  let frozen = false;
  const upgraded = new Map<Socket, Socket>();
  const proxy = createServer((request, response) => {
    const upstream = httpRequest(
      {
        host: "127.0.0.1",
        port: serverPort(),
        path: request.url,
        method: request.method,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on("error", () => response.destroy());
    request.pipe(upstream);
  });
  proxy.on("upgrade", (request: IncomingMessage, socket: Socket, head: Buffer) => {
    if (blocked) {
      socket.destroy();
      return;
    }
    const upstream = connect(serverPort(), "127.0.0.1", () => {
      let lines = `${request.method} ${request.url} HTTP/1.1\r\n`;
      for (let i = 0; i < request.rawHeaders.length; i += 2)
        lines += `${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}\r\n`;
      upstream.write(`${lines}\r\n`);
      upstream.write(head);
      upstream.pipe(socket);
      if (!frozen) socket.pipe(upstream);
    });
    const drop = () => {
      socket.destroy();
      upstream.destroy();
      upgraded.delete(socket);
    };
    upgraded.set(socket, upstream);
    socket.on("close", drop).on("error", drop);
    upstream.on("close", drop).on("error", drop);
  });
  await new Promise<void>((done) => proxy.listen(0, "127.0.0.1", () => done()));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    block() {
      blocked = true;
      for (const socket of upgraded.keys()) socket.destroy();
    },
    unblock() {
      blocked = false;
    },
    freeze() {
      frozen = true;
      for (const [socket, upstream] of upgraded) {
        socket.unpipe(upstream);
        socket.pause();
      }
    },
    thaw() {
      frozen = false;
      for (const [socket, upstream] of upgraded) socket.pipe(upstream);
    },
    async close() {
      for (const socket of upgraded.keys()) socket.destroy();
      proxy.closeAllConnections();
      await new Promise<void>((done) => proxy.close(() => done()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Assertions

export class AssertionError extends Error {
  override name = "AssertionError";
}

/**
 * Polls `read` until `check` accepts its value, like `expect.poll`: resolves with the value, or
 * fails after `timeout` with the message and the last value seen.
 */
export async function eventually<T>(
  description: string,
  read: () => Promise<T> | T,
  check: (value: T) => boolean,
  timeout = TIMEOUT,
): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: T | undefined;
  let lastError: unknown;
  for (let delay = 25; ; delay = Math.min(delay * 2, 250)) {
    try {
      last = await read();
      lastError = undefined;
      if (check(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const seen = lastError
        ? `error: ${String(lastError)}`
        : `last value: ${JSON.stringify(last)}`;
      throw new AssertionError(
        `Timed out after ${timeout} ms waiting for ${description} (${seen})`,
      );
    }
    await new Promise((done) => setTimeout(done, delay));
  }
}

/** `eventually` with equality. */
export function eventuallyEqual<T>(
  description: string,
  read: () => Promise<T> | T,
  expected: T,
  timeout?: number,
) {
  const want = JSON.stringify(expected);
  return eventually(
    `${description} to be ${want}`,
    read,
    (value) => JSON.stringify(value) === want,
    timeout,
  );
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
