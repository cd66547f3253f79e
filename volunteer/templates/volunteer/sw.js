// fieldops volunteer app: service worker {{ version }}
// Precaches the versioned app shell and serves it with no network. API answers
// (which carry voters' names) are never cached here: the app keeps what it
// downloaded in IndexedDB, and logging out deletes it.
const VERSION = "{{ version }}";
const CACHE = "fieldops-shell-" + VERSION;
const SHELL = {{ shell_json|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" })))),
  );
  // No skipWaiting here: a new version waits until the volunteer taps "Update".
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith("fieldops-shell-") && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
  if (event.data && event.data.type === "version" && event.ports[0]) event.ports[0].postMessage(VERSION);
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate" && url.pathname.startsWith("/app/")) {
    // Every page of the app is the same shell; the app routes by the hash.
    event.respondWith(fromCacheFirst("/app/", request));
    return;
  }
  if (SHELL.includes(url.pathname)) event.respondWith(fromCacheFirst(url.pathname, request));
});

async function fromCacheFirst(key, request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  if (hit) return hit;
  return fetch(request);
}
