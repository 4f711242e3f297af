// The youth's opt-in to Web Push: "Gi meg beskjed når jeg får svar", per conversation, off by
// default. The notice says only «Du har fått svar» (static/js/sw.js shows nothing else).
//
// youth.js hands this module two things (attachPush): a way to send a frame on the youth's
// socket, and every frame that socket receives. Everything else is here, next to its own block
// in chat/templates/service.html (#push-box).
//
// States of the switch: off, asking (permission, subscription, the server's answer), on,
// blocked (the browser refuses notices), unsupported (no Web Push in this browser), unavailable
// (the browser has Web Push but could not subscribe here, e.g. no push service reachable), and
// ios (an iPhone or iPad in Safari: push only for a web app added to the home screen).
import { beforeQuickExit } from "./exit.js";

const MARK = "helseprat.push"; // {conversation}: this conversation has push on (forgotten on exit)
const REFUSALS = new Set(["bad_subscription", "unknown_type", "schema_violation", "invalid_state",
                          "rate_limited", "not_authorized"]);

const box = document.getElementById("push-box");
const toggle = document.getElementById("push-switch");
const line = document.getElementById("push-state");
const say = (k) => (box && box.dataset["t" + k[0].toUpperCase() + k.slice(1)]) || "";

export function pushSupported() {
  return typeof window !== "undefined" && "serviceWorker" in navigator && "PushManager" in window
    && "Notification" in window && "showNotification" in ServiceWorkerRegistration.prototype;
}

/** iPhone/iPad Safari outside a home-screen web app: Web Push is not offered there. */
export function iosNeedsHomeScreen() {
  const ua = navigator.userAgent || "";
  const ios = /iP(hone|ad|od)/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1);
  const standalone = navigator.standalone === true || matchMedia("(display-mode: standalone)").matches;
  return ios && !standalone;
}

function store() {
  // Where the conversation itself is kept (youth.js: localStorage only if "remember" is on).
  try { return localStorage.getItem("helseprat.conversation") ? localStorage : sessionStorage; } catch { return null; }
}
function marked(conversation) {
  try { return JSON.parse(store().getItem(MARK) || "null")?.conversation === conversation; } catch { return false; }
}
function mark(conversation) {
  try {
    if (conversation) store().setItem(MARK, JSON.stringify({ conversation }));
    else { sessionStorage.removeItem(MARK); localStorage.removeItem(MARK); }
  } catch { /* storage may be blocked */ }
}

function b64urlToBytes(s) {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
function sameKey(buffer, key) {
  if (!buffer) return false;
  const a = new Uint8Array(buffer);
  return a.length === key.length && a.every((x, i) => x === key[i]);
}

/**
 * One switch for "tell me": where Web Push works here, it stands in for the older in-tab
 * notice (youth.js's #notify), which then follows it, for a tab left open in the background
 * (the server sends no push while the youth is connected). Where push cannot work, the in-tab
 * notice is offered on its own, as before.
 */
function inTab(state) {
  const check = document.getElementById("notify");
  const option = check && check.closest(".option");
  if (!check || !option) return;
  const pushWorks = state === "off" || state === "asking" || state === "on";
  option.hidden = pushWorks;
  if (pushWorks) check.checked = state === "on";
}

/** The service page a tapped notice should open: this page, in its language. */
function servicePath() {
  const lang = document.documentElement.lang || "nb";
  return location.pathname + "?lang=" + encodeURIComponent(lang);
}

/**
 * @param {(frame: object) => boolean} send  sends a frame on the youth's socket (false if down)
 * @returns {{frame: (f: any) => void}}  give it every frame the socket receives
 */
export function attachPush(send) {
  const key = box ? box.dataset.vapidKey || "" : "";
  let conversation = null;
  let state = "off";
  let pending = false; // a push_subscribe/unsubscribe awaits the server's `push` frame

  function show(next) {
    state = next;
    inTab(next);
    toggle.checked = next === "on";
    toggle.disabled = ["asking", "blocked", "unsupported", "ios"].includes(next);
    box.dataset.state = next;
    line.textContent = say("push" + next[0].toUpperCase() + next.slice(1));
    document.getElementById("push-ios").hidden = next !== "ios";
  }

  async function registration() {
    await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    return navigator.serviceWorker.ready;
  }

  async function subscription(reg) {
    const wanted = b64urlToBytes(key);
    let sub = await reg.pushManager.getSubscription();
    if (sub && !sameKey(sub.options && sub.options.applicationServerKey, wanted)) {
      await sub.unsubscribe(); // made for another server key: the server could not reach it
      sub = null;
    }
    return sub || reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: wanted });
  }

  async function turnOn() {
    show("asking");
    let permission = Notification.permission;
    if (permission === "default") permission = await Notification.requestPermission();
    if (permission !== "granted") { show(permission === "denied" ? "blocked" : "off"); return; }
    let reg, sub;
    try {
      reg = await registration();
      sub = await subscription(reg);
    } catch {
      show("unavailable");
      return;
    }
    const { endpoint, keys } = sub.toJSON();
    const lang = document.documentElement.lang || "nb";
    pending = true;
    if (!send({ type: "push_subscribe", endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth }, lang })) {
      pending = false;
      show("unavailable");
      return;
    }
    if (reg.active) reg.active.postMessage({ type: "push-target", path: servicePath() });
  }

  async function turnOff() {
    show("asking");
    pending = true;
    send({ type: "push_unsubscribe" });
    mark(null);
    try {
      const reg = await navigator.serviceWorker.getRegistration("/");
      const sub = reg && await reg.pushManager.getSubscription();
      if (sub) await sub.unsubscribe();
    } catch { /* off on the server is what counts */ }
    pending = false;
    show("off");
  }

  /** The conversation exists: offer the switch, in the state this browser is in. */
  async function offer(id) {
    if (conversation === id) return;
    conversation = id;
    box.hidden = false;
    if (iosNeedsHomeScreen()) { show("ios"); return; }
    if (!pushSupported()) { show("unsupported"); return; }
    if (Notification.permission === "denied") { show("blocked"); return; }
    if (!marked(id)) { show("off"); return; }
    try {
      const reg = await navigator.serviceWorker.getRegistration("/");
      if (reg && await reg.pushManager.getSubscription()) { show("on"); return; }
    } catch { /* fall through: the browser dropped it */ }
    mark(null);
    send({ type: "push_unsubscribe" });
    show("off");
  }

  function frame(f) {
    if (!box || !key) return;
    if (f.type === "started" || f.type === "resumed") {
      offer(f.conversation);
    } else if (f.type === "push" && f.conversation === conversation) {
      pending = false;
      mark(f.on ? conversation : null);
      if (f.on && f.tag) tellWorker({ type: "push-target", tag: f.tag, path: servicePath() });
      if (state === "asking" || state === "on" || state === "off") show(f.on ? "on" : "off");
    } else if (f.type === "error" && pending && REFUSALS.has(f.code)) {
      pending = false;
      show("unavailable");
    } else if (f.type === "state" && f.state === "closed") {
      mark(null); // the server forgets the subscription on close
      box.hidden = true;
    }
  }

  if (box && key && toggle) {
    toggle.addEventListener("change", () => {
      if (toggle.checked) turnOn(); else turnOff();
    });
    // Leaving in a hurry: off on the server too, best effort (the socket is closed right after).
    beforeQuickExit(() => {
      if (conversation && (state === "on" || pending || marked(conversation))) send({ type: "push_unsubscribe" });
    });
  }
  return { frame };
}

function tellWorker(message) {
  navigator.serviceWorker.getRegistration("/").then((reg) => {
    if (reg && reg.active) reg.active.postMessage(message);
  }, () => {});
}
