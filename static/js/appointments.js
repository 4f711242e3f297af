// "Mine avtaler": while a cancellation, a booking or a wish waits for the EPJ's answer, ask every few
// seconds and reload the page once something has changed (the page itself works without
// this script; the status is then current on reload).
const root = document.getElementById("appointments");
const POLL_MS = 3000;

// Waiting for the EPJ: a cancellation, or the booking of a proposal the youth accepted.
const WAITING = ["cancel_sent", "booking_sent"];
function pending() {
  return [...document.querySelectorAll("li.appointment")].filter((li) => WAITING.includes(li.dataset.state));
}
function wishesWaiting() {
  return document.querySelectorAll("li.wish[data-state='sent']").length;
}

async function check() {
  const lang = root?.dataset.lang || "nb";
  const res = await fetch("/api/youth/appointments?lang=" + encodeURIComponent(lang),
                          { credentials: "same-origin", cache: "no-store" });
  if (!res.ok) return false;
  const body = await res.json();
  const now = new Map([...body.upcoming, ...body.past].map((a) => [a.aid, a.state]));
  return pending().some((li) => now.get(li.dataset.aid) !== li.dataset.state)
    || body.wishes_waiting !== wishesWaiting();
}

async function loop() {
  while (pending().length || wishesWaiting()) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    try {
      if (await check()) {
        location.replace(location.pathname + "?lang=" + encodeURIComponent(root?.dataset.lang || "nb"));
        return;
      }
    } catch {
      // Offline for a moment: try again on the next round.
    }
  }
}

// Reminders on this device: the same service worker and push subscription as the chat's
// notices; the server keeps one subscription per person, sealed.
const box = document.getElementById("reminders");

function b64urlToBytes(s) {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function remindersOn() {
  const line = document.getElementById("reminders-state");
  try {
    if (await Notification.requestPermission() !== "granted") throw new Error("denied");
    const reg = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    await navigator.serviceWorker.ready;
    const key = b64urlToBytes(box.dataset.vapidKey);
    const sub = (await reg.pushManager.getSubscription())
      || await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    const res = await fetch("/api/youth/appointments/push", {
      method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" },
      body: JSON.stringify({ subscription: { ...sub.toJSON(), lang: root.dataset.lang || "nb" } }),
    });
    if (!res.ok) throw new Error(String(res.status));
    line.textContent = box.dataset.tOn;
  } catch {
    line.textContent = box.dataset.tFailed;
  }
}

if (box && box.dataset.vapidKey && "serviceWorker" in navigator && "PushManager" in window
    && "Notification" in window) {
  box.hidden = false;
  document.getElementById("reminders-on").addEventListener("click", remindersOn);
}

if (root) loop();
