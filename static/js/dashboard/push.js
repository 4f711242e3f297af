// "Varsle meg når en ungdom venter og dashbordet er lukket": the nurse's Web Push opt-in, a
// switch in the dashboard's alert settings. On: register the service worker (/sw.js, only if
// the server has one), subscribe with the server's VAPID public key (data-vapid-key on #dash)
// and POST the subscription to /dashboard/push with the dashboard's CSRF token; off: DELETE it
// there and unsubscribe. The switch says its state in words: off, on, blocked by the browser,
// or not possible in this browser (headless and some private windows cannot subscribe).
import { t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const SW = "/sw.js";
const READY_WAIT_MS = 10000;

function b64urlToBytes(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
}

function bytesToB64url(buf) {
  let bin = "";
  for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** off · on · blocked · unsupported · failed · working: the switch and its words. */
function show(state) {
  const box = $("push-on");
  box.checked = state === "on";
  // Disabled only when nothing can change it here; while working it keeps the focus.
  box.disabled = state === "unsupported" || state === "blocked";
  box.setAttribute("aria-busy", String(state === "working"));
  $("push-field").dataset.state = state;
  const key = { on: "pushOn", off: "pushOff", blocked: "pushBlocked", unsupported: "pushUnsupported",
                failed: "pushFailed", working: "pushWorking" }[state];
  $("push-status").textContent = t(key);
}

async function registration() {
  return navigator.serviceWorker.getRegistration("/");
}

/** The service worker, registered only when the server serves one. */
async function ensureWorker() {
  const existing = await registration();
  if (existing) return existing;
  const probe = await fetch(SW, { method: "HEAD", credentials: "same-origin", cache: "no-store" });
  if (!probe.ok) return null;
  await navigator.serviceWorker.register(SW, { scope: "/" });
  // A worker that never activates (a blocked or broken one) must not leave the switch waiting.
  const late = new Promise((resolve) => setTimeout(() => resolve(null), READY_WAIT_MS));
  return Promise.race([navigator.serviceWorker.ready, late]);
}

async function send(method, body, csrf) {
  const r = await fetch("/dashboard/push", {
    method, credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: JSON.stringify(body),
  });
  return r.ok;
}

async function turnOn(key, csrf, lang) {
  const permission = Notification.permission === "default"
    ? await Notification.requestPermission() : Notification.permission;
  if (permission === "denied") return "blocked";
  if (permission !== "granted") return "off";
  let reg;
  try { reg = await ensureWorker(); } catch { reg = null; }
  if (!reg) return "unsupported";
  let sub;
  try {
    sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64urlToBytes(key) });
  } catch {
    return "unsupported"; // no push service reachable from this browser
  }
  const body = { endpoint: sub.endpoint, lang,
                 keys: { p256dh: bytesToB64url(sub.getKey("p256dh")), auth: bytesToB64url(sub.getKey("auth")) } };
  let saved = false;
  try { saved = await send("POST", body, csrf); } catch { saved = false; }
  if (!saved) {
    await sub.unsubscribe().catch(() => {});
    return "failed";
  }
  return "on";
}

async function turnOff(csrf) {
  const reg = await registration();
  const sub = reg && await reg.pushManager.getSubscription();
  let gone = false;
  try { gone = await send("DELETE", sub ? { endpoint: sub.endpoint } : {}, csrf); } catch { gone = false; }
  if (!gone) return "failed";
  if (sub) await sub.unsubscribe().catch(() => {});
  return "off";
}

/** What the switch shows when the page opens (nothing is registered or asked for). */
async function initial() {
  if (!pushSupported()) return "unsupported";
  if (Notification.permission === "denied") return "blocked";
  try {
    const reg = await registration();
    const sub = reg && await reg.pushManager.getSubscription();
    return sub ? "on" : "off";
  } catch {
    return "unsupported";
  }
}

/** Wire the switch; it stays hidden when the server has no VAPID key. */
export function installPush({ csrf, lang }) {
  const key = document.getElementById("dash").dataset.vapidKey || "";
  const field = $("push-field");
  if (!key || !field) return;
  field.hidden = false;
  show("working");
  initial().then(show, () => show("unsupported"));
  let busy = false;
  $("push-on").addEventListener("change", async () => {
    const wanted = $("push-on").checked;
    if (busy) { $("push-on").checked = !wanted; return; }
    busy = true;
    show("working");
    let state;
    try {
      state = wanted ? await turnOn(key, csrf, lang) : await turnOff(csrf);
    } catch {
      state = "failed";
    }
    busy = false;
    show(state);
    if (state === "failed") $("push-on").checked = !wanted;
  });
}
