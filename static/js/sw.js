// The service worker, served at /sw.js (scope "/"), for one thing only: Web Push notices.
//
// - push: show the payload's fixed title ("Du har fått svar"), with its tag, and nothing else.
//   The payload never carries message content or a service name, and this worker never adds
//   any: a lock screen is not private.
// - notificationclick: bring the youth back to the conversation: an open helseprat window if
//   there is one, else the service page the page registered for that tag, else the front page.
//   A nurse's notice ("En ungdom venter") brings back or opens the dashboard, /nurse; an
//   appointment reminder ("Påminnelse fra helsetjenesten") opens "Mine avtaler".
// - There is deliberately no fetch handler: nothing is cached for offline use, so a shared phone
//   never keeps a conversation page (or anything else) in this worker's storage.
//
// The only thing stored is tag → service path ("/s/<id>?lang=nb"), in Cache Storage, because a
// worker has no localStorage. Quick exit (static/js/exit.js) tells this worker to forget it all.

const STORE = "helseprat-push-targets";
const ANY = "/_tag/*"; // the latest service path, for a notice whose tag the page never learnt
const GENERIC = { nb: "Du har fått svar", nn: "Du har fått svar", en: "You have an answer" };
// A nurse's notice (a youth is waiting): tapping it opens the dashboard, nothing is registered.
const NURSE = ["En ungdom venter", "Ein ungdom ventar", "A young person is waiting"];
// An appointment reminder for a logged-in youth: tapping it opens "Mine avtaler".
const REMINDER = ["Påminnelse fra helsetjenesten", "Påminning frå helsetenesta",
                  "Reminder from the health service"];

const keyFor = (tag) => "/_tag/" + encodeURIComponent(tag);

/** A same-origin youth path only ("/s/…" or "/"): a message can never send the click elsewhere. */
function safePath(path) {
  if (typeof path !== "string" || !path.startsWith("/") || path.startsWith("//")) return null;
  const url = new URL(path, self.location.origin);
  if (url.origin !== self.location.origin) return null;
  if (url.pathname !== "/" && !url.pathname.startsWith("/s/")) return null;
  return url.pathname + url.search;
}

async function remember(tag, path) {
  const cache = await caches.open(STORE);
  const body = () => new Response(path, { headers: { "content-type": "text/plain" } });
  if (tag) await cache.put(keyFor(tag), body());
  await cache.put(ANY, body());
}

async function recall(tag) {
  const cache = await caches.open(STORE);
  const hit = (tag && await cache.match(keyFor(tag))) || await cache.match(ANY);
  return hit ? safePath(await hit.text()) : null;
}

/** Quick exit: each step on its own, so one that fails does not keep the rest. */
async function forget() {
  const steps = [
    () => caches.delete(STORE),
    async () => { for (const n of await self.registration.getNotifications()) n.close(); },
    async () => { const sub = await self.registration.pushManager.getSubscription(); if (sub) await sub.unsubscribe(); },
  ];
  for (const step of steps) { try { await step(); } catch { /* the next one still runs */ } }
  await self.registration.unregister();
}

/** The notice: the payload's title if it is one of the fixed ones, else the generic title. */
function notice(data) {
  let payload = {};
  try { payload = data ? data.json() : {}; } catch { payload = {}; }
  const fixed = Object.values(GENERIC).concat(NURSE, REMINDER);
  const title = fixed.includes(payload.title) ? payload.title : GENERIC.nb;
  const tag = typeof payload.tag === "string" ? payload.tag.slice(0, 64) : "helseprat";
  return { title, options: { tag, renotify: false, body: "", icon: "/static/icons/icon-192.png",
                             data: { tag } } };
}

self.addEventListener("install", () => { self.skipWaiting(); });
self.addEventListener("activate", (event) => { event.waitUntil(self.clients.claim()); });

self.addEventListener("push", (event) => {
  const { title, options } = notice(event.data);
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const tag = (event.notification.data && event.notification.data.tag) || event.notification.tag;
  const nurse = NURSE.includes(event.notification.title);
  const reminder = REMINDER.includes(event.notification.title);
  event.waitUntil((async () => {
    const path = nurse ? "/nurse" : reminder ? "/mine/avtaler" : await recall(tag);
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const own = (c) => new URL(c.url).origin === self.location.origin;
    const at = (c) => path && new URL(c.url).pathname === new URL(path, self.location.origin).pathname;
    const open = windows.find((c) => own(c) && at(c))
      || (!nurse && !reminder
          && windows.find((c) => own(c) && new URL(c.url).pathname.startsWith("/s/")));
    if (open) return open.focus();
    return self.clients.openWindow(path || "/");
  })());
});

// From our own pages only (same origin is guaranteed for a controlled client's messages).
self.addEventListener("message", (event) => {
  const m = event.data || {};
  if (m.type === "push-target") {
    const path = safePath(m.path);
    if (path) event.waitUntil(remember(typeof m.tag === "string" ? m.tag : "", path));
  } else if (m.type === "forget") {
    event.waitUntil(forget());
  }
});
