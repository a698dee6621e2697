// The offline shell: the page, its styles, scripts and icons are kept by the browser, so
// Dugnad opens from the home screen without a network (it then says "Reconnecting…",
// and what is in the outbox and the drafts is still there). Every request goes to the
// hub first; the copy is used only when the hub cannot be reached, so an updated hub is
// never hidden behind an old client. Nothing of the conversation is kept here: the
// WebSocket, the HTTP API and sign-in (/api/, /auth/, /ws, /healthz, /readyz, /metrics)
// pass untouched: a session token from /auth/session must never land in a cache.

const CACHE = 'dugnad-shell-v2';

// Every file under web-client/public but this one (unit/shell.test.mjs compares the
// list with the folder).
const SHELL = [
  './',
  'index.html',
  'signin-failed.html',
  'manifest.json',
  'favicon.svg',
  'icons/icon.svg',
  'icons/icon-maskable.svg',
  'css/app.css',
  'js/api.js',
  'js/app.js',
  'js/connection.js',
  'js/dom.js',
  'js/drafts.js',
  'js/excerpt.js',
  'js/format.js',
  'js/i18n.js',
  'js/i18n/en.js',
  'js/i18n/nb.js',
  'js/mentions.js',
  'js/notify.js',
  'js/provider-session.js',
  'js/recovery.js',
  'js/sender.js',
  'js/session.js',
  'js/stall.js',
  'js/store.js',
  'js/views/announcements.js',
  'js/views/charts.js',
  'js/views/composer.js',
  'js/views/dashboard.js',
  'js/views/directory.js',
  'js/views/members.js',
  'js/views/mention-complete.js',
  'js/views/message-focus.js',
  'js/views/messages.js',
  'js/views/search.js',
  'js/views/sidebar.js',
];

const PASS_THROUGH = /^\/(api\/|auth\/|ws$|healthz$|readyz$|metrics$)/;

if (typeof self !== 'undefined' && 'skipWaiting' in self) {
  self.addEventListener('install', (event) => {
    event.waitUntil(
      caches
        .open(CACHE)
        .then((cache) => cache.addAll(SHELL))
        .then(() => self.skipWaiting()),
    );
  });

  self.addEventListener('activate', (event) => {
    event.waitUntil(
      caches
        .keys()
        .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
        .then(() => self.clients.claim()),
    );
  });

  self.addEventListener('fetch', (event) => {
    const request = event.request;
    const url = new URL(request.url);
    if (request.method !== 'GET' || url.origin !== self.location.origin || PASS_THROUGH.test(url.pathname)) return;
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(request.mode === 'navigate' ? './' : request, copy));
          }
          return response;
        })
        .catch(() => caches.match(request.mode === 'navigate' ? './' : request).then((hit) => hit || Response.error())),
    );
  });
}
