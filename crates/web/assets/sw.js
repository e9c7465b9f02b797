// dueflow's service worker: when the server cannot be reached, a page says
// so instead of the browser's error. It keeps only that page and the files
// it needs (OFFLINE, put before this by the server); pages with a user's
// data are never stored, as their `Cache-Control: no-store` asks.
const CACHE = `dueflow-offline ${OFFLINE.join(" ")}`;

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(OFFLINE.map((u) => new Request(u, { cache: "reload" })))));
  self.skipWaiting();
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.mode === "navigate") {
    e.respondWith(fetch(e.request).catch(() => caches.match("/offline")));
  } else if (url.origin === location.origin && OFFLINE.includes(url.pathname)) {
    e.respondWith(fetch(e.request).catch(() => caches.match(url.pathname)));
  }
});
