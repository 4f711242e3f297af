// The youth's chat page: start or resume, chat end to end encrypted, end, quick exit.
// Keys live only in this browser: sessionStorage by default, localStorage if "remember" is on.
import { ReconnectingSocket, newCmid, fmt } from "./ws.js";
import * as e2e from "./e2e/index.js";
import { fetchTeam, memberSignKeys } from "./teamview.js";
import { WORDS } from "./wordlist.gen.js";
import * as idp from "./youth_identity.js";

const app = document.getElementById("app");
const t = (k) => app.dataset["t" + k[0].toUpperCase() + k.slice(1)] || k;
const $ = (id) => document.getElementById(id);
const KEY = "helseprat.conversation";
const PINS = "helseprat.pins";
const IDPORTEN = app.dataset.idporten === "1"; // identity bridge configured on this server
const THREAD = new URLSearchParams(location.search).get("thread"); // from "Mine samtaler"

// ---- quick exit: first, so it works even if anything below fails ----------------------------
// Set once the youth leaves: nothing may be written to storage after it has been cleared
// (a message arriving in the same moment would otherwise put the conversation back).
let leaving = false;

function quickExit() {
  leaving = true;
  try { if (socket) socket.stop(); } catch { /* ignore */ }
  let remember = false;
  try { remember = JSON.parse(localStorage.getItem(KEY) || "null")?.remember === true; } catch { /* */ }
  try { sessionStorage.clear(); } catch { /* ignore */ }
  try { localStorage.removeItem(idp.DEVICE); } catch { /* ignore */ }
  if (!remember) { try { localStorage.removeItem(KEY); localStorage.removeItem(PINS); } catch { /* */ } }
  location.replace($("quick-exit").dataset.url);
}
$("quick-exit").addEventListener("click", quickExit);
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !e.repeat) quickExit();
});

// ---- storage ----------------------------------------------------------------------------------
function loadSaved() {
  const raw = sessionStorage.getItem(KEY) || localStorage.getItem(KEY);
  if (!raw) return null;
  try { return JSON.parse(raw); } catch { return null; }
}
let saved = loadSaved();
function persist() {
  if (leaving) return;
  const store = saved && saved.remember ? localStorage : sessionStorage;
  store.setItem(KEY, JSON.stringify(saved));
}
function forget() {
  sessionStorage.removeItem(KEY); localStorage.removeItem(KEY); saved = null; session = null;
}

/** Trust on first use: remember the team root's fingerprint, warn if it ever changes. */
function checkPin(service, root, remember) {
  const store = remember ? localStorage : sessionStorage;
  let pins = {};
  try { pins = JSON.parse(store.getItem(PINS) || sessionStorage.getItem(PINS) || "{}"); } catch { /* */ }
  const check = e2e.checkRootPin(pins[service] || null, root);
  if (check.status === "changed") return false;
  pins[service] = check.fingerprint;
  if (!leaving) store.setItem(PINS, JSON.stringify(pins));
  return true;
}

// ---- crypto state -----------------------------------------------------------------------------
let session = null; // e2e ConversationSession
let team = null;

async function openSession() {
  team = await fetchTeam(saved.service);
  if (!checkPin(saved.service, team.root, saved.remember)) throw new Error("pin");
  const me = e2e.signKeypair(e2e.b64decode(saved.seed));
  const youthKeys = (saved.youthKeys || []).map((k) => e2e.b64decode(k));
  session = e2e.newSession(saved.conversation, e2e.b64decode(saved.ck), saved.epoch,
    [me.publicKey, ...youthKeys, ...memberSignKeys(team)], me);
  showSafety(me.publicKey);
}

function showSafety(youthPk) {
  let el = $("safety");
  if (!el) {
    el = document.createElement("p");
    el.id = "safety";
    el.className = "hint";
    $("chat-view").append(el);
  }
  el.textContent = (app.dataset.tSafety || "Sikkerhetskode") + ": " + e2e.safetyCode(team.root, youthPk);
}

function openBody(body) {
  try {
    const [next, msg] = e2e.openMessage(session, body);
    session = next;
    return { text: e2e.utf8Decode(msg.plaintext), ok: true };
  } catch (err) {
    return { text: "⚠ " + (app.dataset.tUnverified || "Denne meldingen kunne ikke bekreftes og vises ikke."),
             ok: false, code: err && err.code };
  }
}

function sealText(text) {
  const [next, body] = e2e.sealMessage(session, e2e.utf8Encode(text));
  session = next;
  return body;
}

function randomWords(n) {
  const idx = new Uint16Array(n);
  crypto.getRandomValues(idx);
  return Array.from(idx, (x) => WORDS[x % 2048]);
}

// ---- page -------------------------------------------------------------------------------------
const pending = new Map(); // cmid -> {body, li}
const seen = new Set(); // seqs rendered on this page
const shown = new Set(); // cmids of our own messages already on the page
let socket = null;
let frames = Promise.resolve();
let pendingStart = null;
let pendingCode = null; // {handle, auth, wrap}

function showChat() {
  $("start-view").hidden = true;
  $("chat-view").hidden = false;
}

function addMessage(kind, text, meta) {
  const li = document.createElement("li");
  li.className = kind;
  const p = document.createElement("span");
  p.textContent = text;
  li.append(p);
  const m = document.createElement("span");
  m.className = "meta";
  m.textContent = meta || "";
  li.append(m);
  $("messages").append(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

/** A message the server refused (e.g. rate limited): say so, and offer to send it again with
 * the same client message id, so it is stored once even if the first try did get through. */
function markFailed(cmid) {
  const p = pending.get(cmid);
  if (!p) return;
  const meta = p.li.querySelector(".meta");
  meta.textContent = t("failed");
  meta.classList.add("failed");
  if (p.li.querySelector("button.retry")) return;
  const retry = document.createElement("button");
  retry.type = "button";
  retry.className = "retry";
  retry.textContent = t("retry");
  retry.addEventListener("click", () => {
    meta.textContent = t("sending");
    meta.classList.remove("failed");
    retry.remove();
    if (socket) socket.send({ type: "send", cmid, body: p.body });
  });
  p.li.append(retry);
}

/** Opt-in system notification while the tab is in the background. It never shows the
 * message itself: the phone may be shared, and the lock screen is not private. */
function notify() {
  const box = $("notify");
  if (!box || !box.checked || typeof Notification === "undefined") return;
  if (Notification.permission !== "granted") return;
  try { new Notification(t("notifyTitle"), { tag: "helseprat", silent: false }); } catch { /* */ }
}

function setStatus(text) { $("conv-status").textContent = text; }

async function onFrame(f) {
  switch (f.type) {
    case "started":
      saved = { ...pendingStart.saved, conversation: f.conversation, token: f.token, last: 0 };
      persist();
      await openSession();
      if (pendingStart.code) {
        $("code-text").textContent = pendingStart.code;
        $("code-box").hidden = false;
      }
      pendingStart = null;
      showChat();
      if (IDPORTEN) {
        idp.registerYouthKey(saved, e2e.b64encode(e2e.signKeypair(e2e.b64decode(saved.seed)).publicKey));
        showUpgrade();
      }
      break;
    case "resumed":
      if (f.token && pendingCode) {
        const [ck, seed] = e2e.openBackup(pendingCode.wrap, e2e.b64decode(f.backup));
        saved = { conversation: f.conversation, token: f.token, service: f.service, last: 0,
                  remember: false, ck: e2e.b64encode(ck), seed: e2e.b64encode(seed), epoch: f.epoch };
        pendingCode = null;
        persist();
        await openSession();
      }
      showChat();
      break;
    case "state":
      if (f.verified) showVerified();
      if (f.service && saved && session && f.service !== saved.service) {
        // Transferred to another service: its team's nurses write from now on. Verify that
        // team against its own root (pinned on first use) and accept its members and epoch.
        const other = await fetchTeam(f.service);
        if (checkPin(f.service, other.root, saved.remember)) {
          session = e2e.withEpoch(e2e.withSenders(session, memberSignKeys(other)), other.statement.epoch);
          saved.service = f.service;
          persist();
        } else {
          setStatus(app.dataset.tPinChanged || t("error"));
        }
      }
      // "waiting": the queue frame with the real position follows within a moment.
      if (f.state === "active") setStatus(t("active"));
      if (f.state === "closed") {
        if ($("upgrade-box")) $("upgrade-box").hidden = true;
        setStatus(t("closed"));
        $("composer").hidden = true;
        $("end").hidden = true;
      }
      break;
    case "system": {
      // A notice from the service itself (e.g. "this chat will close for inactivity"): no
      // youth content, so it is plain text, in the page's language.
      const lang = document.documentElement.lang || "nb";
      addMessage("system", (f.text && (f.text[lang] || f.text.nb)) || "", "");
      break;
    }
    case "queue": {
      let text = fmt(t("waiting"), { pos: f.position, n: f.waiting });
      if (f.expected_wait_s) text += " " + fmt(t("wait"), { min: Math.ceil(f.expected_wait_s / 60) });
      setStatus(text);
      break;
    }
    case "deliver": {
      if (!saved || !session || seen.has(f.seq)) break;
      seen.add(f.seq);
      if (f.seq > saved.last) { saved.last = f.seq; persist(); }
      let opened = openBody(f.body);
      if (!opened.ok && (opened.code === "e2e_unknown_sender" || opened.code === "e2e_unknown_epoch")) {
        // A nurse who joined the team after we started, or a new epoch after a rotation:
        // refresh the (root-verified) team once and try again.
        const fresh = await fetchTeam(saved.service);
        if (checkPin(saved.service, fresh.root, saved.remember)) {
          session = e2e.withEpoch(e2e.withSenders(session, memberSignKeys(fresh)), fresh.statement.epoch);
          opened = openBody(f.body);
        }
      }
      if (f.from === "youth") {
        const p = pending.get(f.cmid);
        if (p) { p.li.querySelector(".meta").textContent = t("sent"); pending.delete(f.cmid); }
        else if (!shown.has(f.cmid)) addMessage("me", opened.text, t("you"));
      } else {
        addMessage(opened.ok ? "them" : "them failed", opened.text, f.sender || t("nurse"));
        $("typing").hidden = true;
        if (document.hidden) {
          document.title = "(1) " + document.title.replace(/^\(\d+\) /, "");
          notify();
        }
      }
      break;
    }
    case "ack": {
      const p = pending.get(f.cmid);
      if (p) { p.li.querySelector(".meta").textContent = t("sent"); pending.delete(f.cmid); }
      // An ack stands in the sequence where our message is (we get no deliver of it).
      if (saved && !f.duplicate && f.seq > saved.last) { saved.last = f.seq; persist(); }
      break;
    }
    case "device_ready":
      // Another device of the logged-in youth got CK: accept messages signed by it.
      if (session && f.sign) session = e2e.withSenders(session, [e2e.b64decode(f.sign)]);
      break;
    case "typing":
      if (f.from === "nurse") {
        $("typing").hidden = false;
        clearTimeout(onFrame.typingTimer);
        onFrame.typingTimer = setTimeout(() => { $("typing").hidden = true; }, 5000);
      }
      break;
    case "error":
      if (f.code === "bad_token") {
        const wasLinked = saved && saved.linked;
        forget();
        if (wasLinked) { showLoginAgain(); break; }
        $("start-view").hidden = false; $("chat-view").hidden = true; $("start").disabled = false;
      }
      if (f.ref && pending.has(f.ref)) {
        markFailed(f.ref);
      } else {
        setStatus(t("error") + " (" + f.code + ")");
        if (pendingStart) { pendingStart = null; $("start").disabled = false; }
      }
      break;
  }
}

function connect() {
  socket = new ReconnectingSocket("/ws/youth", {
    onOpen() {
      $("banner").hidden = true;
      if (saved) {
        // After a page load nothing is rendered yet: read the whole history (it also moves our
        // own message counter past what we sent before).
        const after = seen.size ? saved.last : 0;
        if (saved.linked) socket.send({ type: "resume_session", conversation: saved.conversation, after });
        else socket.send({ type: "resume", conversation: saved.conversation, token: saved.token, after });
        for (const [cmid, p] of pending) socket.send({ type: "send", cmid, body: p.body });
      } else if (pendingCode) {
        socket.send({ type: "resume_code", handle: pendingCode.handle, auth: pendingCode.auth, after: 0 });
      } else if (pendingStart) {
        socket.send(pendingStart.frame);
      }
    },
    // Frames are handled strictly in order, even when one handler waits for a fetch.
    onFrame: (f) => {
      frames = frames.then(() => onFrame(f)).catch((err) => setStatus(t("error") + " (" + (err.code || "e2e") + ")"));
    },
    onDown() {
      $("banner").textContent = t("reconnecting");
      $("banner").hidden = false;
    },
  });
}

$("start").addEventListener("click", async () => {
  $("start").disabled = true;
  const service = app.dataset.service;
  const remember = $("remember").checked;
  try {
    const tm = await fetchTeam(service);
    if (!checkPin(service, tm.root, remember)) {
      setStatus(app.dataset.tPinChanged || "Tjenestens nøkkel har endret seg. Snakk med helsesykepleieren før du skriver noe personlig.");
      $("start").disabled = false;
      return;
    }
    const ck = e2e.conversationKey();
    const me = e2e.signKeypair();
    const bundle = e2e.encodeKeyBundle(e2e.makeKeyBundle(ck, me.publicKey, tm.statement));
    const frame = { type: "start", service, key_bundle: e2e.b64encode(bundle), epoch: tm.statement.epoch };
    let code = null;
    if ($("want-code").checked) {
      const words = randomWords(11);
      const secret = words.slice(3).join(" ");
      const backup = e2e.sealBackup(e2e.resumeWrapKey(secret), ck, me.seed);
      frame.resume = { handle: words.slice(0, 3).join(" "), auth: e2e.resumeAuth(secret),
                       backup: e2e.b64encode(backup) };
      code = words.slice(0, 3).join(" ") + " · " + secret;
    }
    pendingStart = { frame, code, saved: { service, remember, ck: e2e.b64encode(ck),
                                           seed: e2e.b64encode(me.seed), epoch: tm.statement.epoch } };
    if (socket && socket.open) socket.send(frame); else if (!socket) connect();
  } catch {
    setStatus(t("error"));
    $("start").disabled = false;
  }
});

$("resume-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const words = $("resume-code").value.toLowerCase().split(/[^a-z]+/).filter(Boolean);
  if (words.length !== 11 || words.some((w) => !WORDS.includes(w))) {
    setStatus(t("error") + " (bad_resume_code)");
    return;
  }
  const secret = words.slice(3).join(" ");
  pendingCode = { handle: words.slice(0, 3).join(" "), auth: e2e.resumeAuth(secret),
                  wrap: e2e.resumeWrapKey(secret) };
  if (socket && socket.open) socket.send({ type: "resume_code", handle: pendingCode.handle, auth: pendingCode.auth, after: 0 });
  else if (!socket) connect();
});

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("message").value.trim();
  if (!text || !saved || !session) return;
  const cmid = newCmid();
  const body = sealText(text);
  const li = addMessage("me", text, t("sending"));
  pending.set(cmid, { body, li });
  shown.add(cmid);
  socket.send({ type: "send", cmid, body });
  $("message").value = "";
});

let lastTyping = 0;
$("message").addEventListener("input", () => {
  const now = Date.now();
  if (socket && saved && now - lastTyping > 3000) { lastTyping = now; socket.send({ type: "typing" }); }
});

if ($("notify")) {
  $("notify").addEventListener("change", () => {
    if ($("notify").checked && typeof Notification !== "undefined" && Notification.permission === "default") {
      Notification.requestPermission().then((perm) => { if (perm !== "granted") $("notify").checked = false; });
    }
  });
}

$("end").addEventListener("click", () => { if (socket) socket.send({ type: "end" }); });
$("copy-code").addEventListener("click", () => {
  navigator.clipboard?.writeText($("code-text").textContent || "");
});
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) document.title = document.title.replace(/^\(\d+\) /, "");
});

// ---- identity bridge: upgrade to a logged-in thread, new devices, logout --------------------
function showUpgrade() {
  const box = $("upgrade-box");
  if (box) box.hidden = !(IDPORTEN && saved && saved.token && !saved.linked);
}

function showVerified() {
  if (!$("verified-box")) return;
  $("verified-text").textContent = t("linked");
  $("verified-box").hidden = false;
  if ($("upgrade-box")) $("upgrade-box").hidden = true;
}

function showLoginAgain() {
  $("start-view").hidden = true; $("chat-view").hidden = false;
  $("composer").hidden = true; $("end").hidden = true;
  setStatus(t("loginAgain"));
}

if ($("logout-form")) {
  // Logging out forgets the conversation on this device: a shared phone keeps nothing.
  $("logout-form").addEventListener("submit", (e) => {
    e.preventDefault();
    forget();
    idp.logout(app.dataset.lang);
  });
}

async function boot() {
  const login = idp.takeLoginMarker();
  if (IDPORTEN && login && login.kind === "upgrade" && saved && saved.token
      && saved.conversation === login.conversation) {
    // Back from ID-porten: prove this tab holds the conversation, then link it.
    showChat();
    setStatus(t("linking"));
    try {
      const me = e2e.signKeypair(e2e.b64decode(saved.seed));
      await idp.confirmAndLink(login, saved, me);
      saved = { ...saved, linked: true };
      delete saved.token;
      persist();
      showVerified();
    } catch {
      setStatus(t("linkFailed"));
    }
  }
  if (THREAD && !(saved && saved.conversation === THREAD && saved.ck)) {
    // A logged-in youth opening a thread on a device that has no key for it yet.
    $("start-view").hidden = true; $("chat-view").hidden = false;
    $("composer").hidden = true;
    setStatus(t("deviceWait"));
    try {
      const got = await idp.deviceKeyFor(THREAD);
      saved = { conversation: THREAD, service: app.dataset.service, last: 0, remember: false,
                ck: got.ck, seed: got.seed, epoch: got.epoch, linked: true, youthKeys: got.youthKeys };
      persist();
      $("composer").hidden = false;
    } catch {
      showLoginAgain();
      return;
    }
  }
  if (saved && saved.service === app.dataset.service && saved.ck) {
    showChat();
    if (saved.linked) showVerified(); else showUpgrade();
    openSession().then(connect, () => { forget(); $("start-view").hidden = false; $("chat-view").hidden = true; });
  }
}
boot();
