/**
 * The code-review demo in one process: `npm start`.
 *
 * Builds the app with Vite when its sources changed, then serves it and the Kalphite sync server
 * (embedded PGlite, nothing to install) on one HTTP port.
 *
 *   PORT=5173            the port (0 picks a free one)
 *   DATA_DIR=.data/...   the sync server's database directory
 *   --build              rebuild the app even if it looks up to date
 */
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, gzipSync, constants as zlib } from "node:zlib";
import { createSyncServer } from "kalphite/server";
import { Entity } from "./src/schema.js";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../..");
const distDir = join(here, "dist");
const port = Number(process.env.PORT ?? 5173);
const dataDir = resolve(repoRoot, process.env.DATA_DIR ?? ".data/code-review");
const forceBuild = process.argv.includes("--build");

// ---------------------------------------------------------------------------------------------
// Build

/** The newest modification time under `path` (a file or a directory). */
function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === "node_modules" || entry === "dist") continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

async function buildIfNeeded(): Promise<void> {
  const builtAt = newestMtime(join(distDir, "index.html"));
  const inputs = [
    join(here, "src"),
    join(here, "index.html"),
    join(here, "vite.config.ts"),
    join(repoRoot, "src"),
  ];
  const changedAt = Math.max(...inputs.map(newestMtime));
  if (!forceBuild && builtAt > changedAt) return;
  console.log("Building the app with Vite…");
  const { build } = await import("vite");
  await build({ configFile: join(here, "vite.config.ts"), logLevel: "warn" });
}

// ---------------------------------------------------------------------------------------------
// Compression: every text and binary asset is stored beside itself as .br and .gz once, after a
// build, and served in the encoding the browser accepts (PGlite's 15 MB shrink to about 4 MB).

const COMPRESSIBLE = new Set([".html", ".js", ".css", ".json", ".svg", ".wasm", ".data", ".map"]);
const ENCODINGS = [
  { name: "br", suffix: ".br" },
  { name: "gzip", suffix: ".gz" },
] as const;

function compressBuild(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      compressBuild(path);
      continue;
    }
    if (!COMPRESSIBLE.has(extname(entry.name))) continue;
    const mtime = statSync(path).mtimeMs;
    const fresh = (suffix: string) =>
      existsSync(path + suffix) && statSync(path + suffix).mtimeMs >= mtime;
    if (fresh(".br") && fresh(".gz")) continue;
    const content = readFileSync(path);
    // Quality 9: within a few percent of 11 for PGlite's files, in seconds instead of a minute.
    writeFileSync(
      `${path}.br`,
      brotliCompressSync(content, {
        params: {
          [zlib.BROTLI_PARAM_QUALITY]: 9,
          [zlib.BROTLI_PARAM_SIZE_HINT]: content.length,
        },
      }),
    );
    writeFileSync(`${path}.gz`, gzipSync(content, { level: 9 }));
  }
}

/** The stored encoding of `file` to send for this request's Accept-Encoding, if any. */
function encodingFor(request: IncomingMessage, file: string) {
  const accepted = String(request.headers["accept-encoding"] ?? "");
  return ENCODINGS.find(
    (encoding) =>
      new RegExp(`\\b${encoding.name}\\b`).test(accepted) && existsSync(file + encoding.suffix),
  );
}

// ---------------------------------------------------------------------------------------------
// Static files

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".wasm": "application/wasm",
  ".data": "application/octet-stream",
  ".map": "application/json",
};

function serveStatic(request: IncomingMessage, response: ServerResponse): void {
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  const pathname = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
  let file = resolve(distDir, `.${pathname}`);
  if (file !== distDir && !file.startsWith(distDir + sep)) {
    response.writeHead(403).end();
    return;
  }
  const isFile = existsSync(file) && statSync(file).isFile();
  if (!isFile) {
    // Unknown asset: 404. Any other path is the app (it reads the room from the query string).
    if (extname(pathname) !== "") {
      response.writeHead(404, { "content-type": "text/plain" }).end("Not found");
      return;
    }
    file = join(distDir, "index.html");
  }
  const hashed = relative(distDir, file).startsWith(`assets${sep}`);
  const encoding = COMPRESSIBLE.has(extname(file)) ? encodingFor(request, file) : undefined;
  const sent = encoding ? file + encoding.suffix : file;
  response.writeHead(200, {
    "content-type": MIME[extname(file)] ?? "application/octet-stream",
    "content-length": statSync(sent).size,
    "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
    vary: "accept-encoding",
    ...(encoding ? { "content-encoding": encoding.name } : {}),
  });
  if (request.method === "HEAD") response.end();
  else createReadStream(sent).pipe(response);
}

// ---------------------------------------------------------------------------------------------
// Main

await buildIfNeeded();
compressBuild(distDir);

// PGlite creates its data directory but not the parents (.data/ on a fresh clone).
mkdirSync(dataDir, { recursive: true });
const server = createServer(serveStatic);
// The sync server shares the HTTP server: WebSocket upgrades on /sync, rooms stored in PGlite.
const sync = await createSyncServer({
  server,
  path: "/sync",
  schema: Entity,
  dataDir,
  allowInsecureDevAuth: true,
  warn: (message) =>
    console.warn(
      `${message}\n(The demo trusts the user name typed in the page: fine on localhost, not on a network.)`,
    ),
});
await new Promise<void>((resolveListen, reject) => {
  server.once("error", reject);
  server.listen(port, () => resolveListen());
});
const actualPort = (server.address() as AddressInfo).port;

const shownDataDir = relative(process.cwd(), dataDir);
console.log(
  `Sync server: ws://localhost:${actualPort}/sync, rooms stored in ${shownDataDir.startsWith("..") ? dataDir : shownDataDir}`,
);
console.log(`Kalphite code review: http://localhost:${actualPort}/?room=demo`);

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  console.log(`\n${signal}: shutting down…`);
  setTimeout(() => process.exit(1), 5000).unref();
  await sync.close();
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
