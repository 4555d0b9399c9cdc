// The demo's service worker: the app shell and PGlite's files are cached when it installs, so a
// reload while offline (or with the server down) opens the app on this browser's database.
// vite.config.ts writes it to dist/sw.js with the build's file list and version filled in.
const VERSION = "__VERSION__";
/** Every file of the build, as paths from the root: the page, its scripts, PGlite's wasm and data. */
const PRECACHE = __PRECACHE__;
const CACHE = `kalphite-review-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((key) => key.startsWith("kalphite-review-") && key !== CACHE)
            .map((key) => caches.delete(key)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin || url.pathname === "/sync")
    return;
  if (request.mode === "navigate") {
    // The page itself: the network's when it answers (a new build shows at once), else the
    // cached one; the room and user are in the query string, which the page reads itself.
    event.respondWith(
      fetch(request).catch(() =>
        caches.match("/", { ignoreSearch: true }).then((cached) => cached ?? Response.error()),
      ),
    );
    return;
  }
  // Everything else is a hashed, immutable file: the cache first.
  event.respondWith(caches.match(request).then((cached) => cached ?? fetch(request)));
});
