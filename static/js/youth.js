// The youth's chat page: start or resume, chat end to end encrypted, end, quick exit.
// Keys live only in this browser: sessionStorage by default, localStorage if "remember" is on.
import { beforeQuickExit, hasLeft } from "./exit.js"; // first: quick exit works even if the rest fails
import { ReconnectingSocket, newCmid, fmt, clock } from "./ws.js";
import { e2e, loadCrypto } from "./e2e/lazy.js"; // after the first paint, see the end of this file
import { afterPaint, readyWhen } from "./startready.js";
import { fetchTeam, memberSignKeys } from "./teamview.js";
import * as codes from "./resumecode.js";
import * as idp from "./youth_identity.js";
import { attachPush } from "./push.js";
import { isAcute } from "./acute.js";
import { later } from "./youth_later.js";

const app = document.getElementById("app");
const t = (k) => app.dataset["t" + k[0].toUpperCase() + k.slice(1)] || k;
const $ = (id) => document.getElementById(id);
const KEY = "helseprat.conversation";
const PINS = "helseprat.pins";
// The capability token of the last start: a new start presents it, so fair use counts per
// token, not per address (docs/queue.md). Kept beside the conversation, in the same storage;
// quick exit clears it with everything else.
const CAP = "helseprat.capability";
const IDPORTEN = app.dataset.idporten === "1"; // identity bridge configured on this server
const THREAD = new URLSearchParams(location.search).get("thread"); // from "Mine samtaler"

// Web Push opt-in (static/js/push.js): it sends on our socket and sees every frame we receive.
const push = attachPush((frame) => Boolean(socket && socket.send(frame)));

// ---- quick exit (static/js/exit.js forgets the conversation on this device, always) -----------
beforeQuickExit(() => { if (socket) socket.stop(); });

// ---- storage ----------------------------------------------------------------------------------
function loadSaved() {
  const raw = sessionStorage.getItem(KEY) || localStorage.getItem(KEY);
  if (!raw) return null;
  try { return JSON.parse(raw); } catch { return null; }
}
let saved = loadSaved();
function persist() {
  if (hasLeft()) return;
  const store = saved && saved.remember ? localStorage : sessionStorage;
  store.setItem(KEY, JSON.stringify(saved));
}
function capability() {
  try { return sessionStorage.getItem(CAP) || localStorage.getItem(CAP) || ""; } catch { return ""; }
}
function keepCapability(token, remember) {
  if (hasLeft() || !token) return;
  try { (remember ? localStorage : sessionStorage).setItem(CAP, token); } catch { /* */ }
}
// The refusals of fair use: said kindly, beside the crisis numbers, never as "blocked".
const FAIR_USE = { too_many_open: "tooManyOpen", too_many_new: "tooManyNew", starts_paused: "startsPaused" };
function fairUse(code) {
  $("fair-use-text").textContent = t(FAIR_USE[code]);
  $("fair-use").hidden = false;
  $("fair-use").scrollIntoView({ block: "nearest" });
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
  if (!hasLeft()) store.setItem(PINS, JSON.stringify(pins));
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


// ---- page -------------------------------------------------------------------------------------
const pending = new Map(); // cmid -> {body, li}
const seen = new Set(); // seqs rendered on this page
const shown = new Set(); // cmids of our own messages already on the page
let socket = null;
let frames = Promise.resolve();
let pendingStart = null;
let pendingCode = null; // {handle, auth, wrap}
let joined = ""; // the nurse whose "… er med i samtalen" is on the page

function showChat() {
  const was = $("chat-view").hidden;
  $("start-view").hidden = true;
  $("chat-view").hidden = false;
  // The Start button was further down: bring the queue status (what the youth waits for) into view.
  if (was) $("conv-status").scrollIntoView({ block: "center" });
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
  const end = $("ended");
  if (end) end.before(li); else $("messages").append(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

/** Our own message's line: "Sendt 14.05", the same live and after a reload. */
function sentMeta(ts) { return (t("sent") + " " + clock(ts)).trim(); }
function theirMeta(sender, ts) { return [sender || t("nurse"), clock(ts)].filter(Boolean).join(" · "); }

/** A message the server refused (e.g. rate limited): say so, and offer to send it again with
 * the same client message id, so it is stored once even if the first try did get through. */
// The reason, when there is one a resend cannot fix now, sits beside the unsent message itself:
// the status line above is the queue's and is rewritten by its next update.
function markFailed(cmid, reason) {
  const p = pending.get(cmid);
  if (!p) return;
  const meta = p.li.querySelector(".meta");
  meta.textContent = reason || t("failed");
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

function hideTyping() {
  clearTimeout(hideTyping.timer);
  $("typing").hidden = true;
}

/** A nurse has the conversation: say who, once per nurse, in the conversation itself. */
function nurseJoined(name) {
  setStatus(name ? fmt(t("activeNamed"), { name }) : t("active"));
  if (!name || joined === name) return;
  joined = name;
  addMessage("system joined", fmt(t("joined"), { name }), "");
}

/** The end, as a line in the conversation: why, "was this helpful?", and what now. */
function showEnded(outcome) {
  if ($("upgrade-box")) $("upgrade-box").hidden = true;
  setStatus(t("closed"));
  $("composer").hidden = true;
  $("chat-tools").hidden = true;
  hideTyping();
  if ($("ended")) return;
  const li = $("ended-template").content.firstElementChild.cloneNode(true);
  const why = outcome === "youth_ended" ? "closedYou" : outcome === "inactive" ? "closedInactive" : "closedNurse";
  li.querySelector("#ended-why").textContent = t(why);
  $("messages").append(li);
  if (saved && saved.feedback) feedbackGiven();
  for (const b of li.querySelectorAll("button[data-helpful]")) {
    b.addEventListener("click", () => {
      for (const other of li.querySelectorAll("button[data-helpful]")) other.disabled = true;
      if (!socket || !socket.send({ type: "feedback", helpful: b.dataset.helpful === "1" })) {
        for (const other of li.querySelectorAll("button[data-helpful]")) other.disabled = false;
      }
    });
  }
  $("new-chat").addEventListener("click", newChat);
  li.scrollIntoView({ block: "start" });
}

function feedbackGiven() {
  if ($("feedback")) $("feedback").hidden = true;
  if ($("feedback-thanks")) $("feedback-thanks").hidden = false;
}

/** Forget the ended conversation here and offer a fresh start on the same page. */
function newChat() {
  forget();
  try { if (socket) socket.stop(); } catch { /* */ }
  location.replace(location.pathname + "?lang=" + encodeURIComponent(app.dataset.lang || "nb"));
}

async function onFrame(f) {
  switch (f.type) {
    case "started":
      saved = { ...pendingStart.saved, conversation: f.conversation, token: f.token, last: 0 };
      persist();
      keepCapability(f.token, saved.remember);
      $("fair-use").hidden = true;
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
      later.historyUntil(f.last_seq);
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
      if (f.state === "active") nurseJoined(f.nurse || "");
      if (f.state === "closed") showEnded(f.outcome);
      later.state(f.state, f.due);
      break;
    case "system": {
      // A notice from the service itself (e.g. "this chat will close for inactivity"): no
      // youth content, so it is plain text, in the page's language.
      const lang = document.documentElement.lang || "nb";
      addMessage("system", (f.text && (f.text[lang] || f.text.nb)) || "", "");
      break;
    }
    case "queue": {
      if (later.on) break; // a queue update racing the move to later
      let text = fmt(t("waiting"), { pos: f.position, n: f.waiting });
      if (f.expected_wait_s) text += " " + fmt(t("wait"), { min: Math.ceil(f.expected_wait_s / 60) });
      setStatus(text);
      break;
    }
    case "deliver": {
      if (!saved || !session || seen.has(f.seq)) break;
      seen.add(f.seq);
      if (f.seq > saved.last) { saved.last = f.seq; persist(); }
      if (f.from === "system") { // a line, not a message: a nurse the nurse asked in joined or left
        const key = f.cmid === "helper_joined" ? "helperJoined" : f.cmid === "helper_left" ? "helperLeft" : "";
        if (key) addMessage(key === "helperJoined" ? "system joined" : "system", fmt(t(key), { name: f.sender }), "");
        break;
      }
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
      later.message(f.from, f.seq);
      if (f.from === "youth") {
        const p = pending.get(f.cmid);
        if (p) { p.li.querySelector(".meta").textContent = sentMeta(f.ts); pending.delete(f.cmid); }
        else if (!shown.has(f.cmid)) addMessage("me", opened.text, sentMeta(f.ts));
      } else {
        addMessage(opened.ok ? "them" : "them failed", opened.text, theirMeta(f.sender, f.ts));
        hideTyping();
        if (document.hidden) {
          document.title = "(1) " + document.title.replace(/^\(\d+\) /, "");
          notify();
        }
      }
      break;
    }
    case "ack": {
      const p = pending.get(f.cmid);
      if (p) { p.li.querySelector(".meta").textContent = sentMeta(f.ts); pending.delete(f.cmid); }
      // An ack stands in the sequence where our message is (we get no deliver of it).
      if (saved && !f.duplicate && f.seq > saved.last) { saved.last = f.seq; persist(); }
      if (!f.duplicate) later.message("youth", f.seq);
      break;
    }
    case "feedback":
      if (saved) { saved.feedback = true; persist(); }
      feedbackGiven();
      break;
    case "device_ready":
      // Another device of the logged-in youth got CK: accept messages signed by it.
      if (session && f.sign) session = e2e.withSenders(session, [e2e.b64decode(f.sign)]);
      break;
    case "typing":
      if (f.from === "nurse") {
        hideTyping();
        // "stopped": the nurse cleared the field. Otherwise a nurse who stops typing without
        // sending (or whose stop was lost) stops showing after a few seconds.
        if (!f.stopped) {
          $("typing").hidden = false;
          hideTyping.timer = setTimeout(hideTyping, 5000);
        }
      }
      break;
    case "error":
      if (f.code === "bad_token") {
        const wasLinked = saved && saved.linked;
        forget();
        if (wasLinked) { showLoginAgain(); break; }
        $("start-view").hidden = false; $("chat-view").hidden = true; $("start").disabled = false;
      }
      // Refusals a resend cannot fix now: say why, in words, beside the unsent message.
      const told = { conversation_full: "full", storage_full: "storageFull" }[f.code];
      if (f.ref && pending.has(f.ref)) {
        markFailed(f.ref, told && t(told));
      } else if (FAIR_USE[f.code] && pendingStart) {
        fairUse(f.code);
        pendingStart = null; $("start").disabled = false;
      } else if ((f.code === "bad_resume_code" || f.code === "too_many_attempts") && !saved) {
        resumeError(f.code === "bad_resume_code" ? t("badCode") : f.message);
        pendingCode = null;
      } else {
        setStatus(told ? t(told) : t("error") + " (" + f.code + ")");
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
      frames = frames.then(() => { push.frame(f); return onFrame(f); }).catch((err) => setStatus(t("error") + " (" + (err.code || "e2e") + ")"));
    },
    onDown() {
      $("banner").textContent = t("reconnecting");
      $("banner").hidden = false;
    },
  });
}

// The topic is optional: a second tap on the chosen chip takes the choice back.
let chosenTopic = null;
for (const chip of document.querySelectorAll('input[name="topic"]')) {
  chip.addEventListener("click", () => {
    if (chosenTopic === chip.value) { chip.checked = false; chosenTopic = null; } else chosenTopic = chip.value;
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
    const cap = capability();
    if (cap) frame.capability = cap;
    const topic = document.querySelector('input[name="topic"]:checked');
    if (topic) frame.topic = topic.value;
    if ($("urgent") && $("urgent").checked) frame.urgent = true;
    let code = null;
    if ($("want-code").checked) {
      const secret = codes.newSecret();
      const backup = e2e.sealBackup(e2e.resumeWrapKey(secret), ck, me.seed);
      frame.resume = { handle: await codes.handleOf(secret), auth: e2e.resumeAuth(secret),
                       backup: e2e.b64encode(backup) };
      code = codes.show(secret);
    }
    pendingStart = { frame, code, saved: { service, remember, ck: e2e.b64encode(ck),
                                           seed: e2e.b64encode(me.seed), epoch: tm.statement.epoch } };
    if (socket && socket.open) socket.send(frame); else if (!socket) connect();
  } catch {
    setStatus(t("error"));
    $("start").disabled = false;
  }
});

function resumeError(text) {
  $("resume-error").textContent = text;
  $("resume-error").hidden = !text;
  if (text) $("resume-code").setAttribute("aria-invalid", "true");
  else $("resume-code").removeAttribute("aria-invalid");
}

$("resume-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try { await loadCrypto(); } catch { setStatus(t("error")); return; }
  const secret = codes.normalize($("resume-code").value);
  if (!secret) { resumeError(t("badCode")); return; }
  resumeError("");
  pendingCode = { handle: await codes.handleOf(secret), auth: e2e.resumeAuth(secret),
                  wrap: e2e.resumeWrapKey(secret) };
  if (socket && socket.open) socket.send({ type: "resume_code", handle: pendingCode.handle, auth: pendingCode.auth, after: 0 });
  else if (!socket) connect();
});

let lastTyping = 0;
function typingStopped() {
  if (lastTyping && socket && saved) socket.send({ type: "typing", stopped: true });
  lastTyping = 0;
}

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
  typingStopped();
});

$("message").addEventListener("input", () => {
  // Words that signal acute danger: the guidance shows at once, checked here only (acute.js).
  if ($("acute").hidden && isAcute($("message").value)) $("acute").hidden = false;
  if (!$("message").value.trim()) { typingStopped(); return; }
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

// Ending is final: ask first (a modal dialog; Escape or "Nei" keeps the chat).
$("end").addEventListener("click", () => { $("end-dialog").showModal(); });
$("end-dialog").addEventListener("close", () => {
  if ($("end-dialog").returnValue === "end" && socket) socket.send({ type: "end" });
  $("end-dialog").returnValue = "";
});
// "Answer me later": asked first, like ending; the youth may choose to be remembered here.
later.wire({
  send: (frame) => !!socket && socket.send(frame),
  remember() {
    if (!saved || saved.remember || hasLeft()) return;
    saved.remember = true;
    const pins = sessionStorage.getItem(PINS);
    if (pins && !localStorage.getItem(PINS)) localStorage.setItem(PINS, pins);
    sessionStorage.removeItem(KEY);
    persist();
  },
  remembered: () => !!(saved && saved.remember),
  setStatus,
});
$("copy-code").addEventListener("click", async () => {
  const say = (text) => { $("copy-status").textContent = ""; setTimeout(() => { $("copy-status").textContent = text; }, 50); };
  try {
    await navigator.clipboard.writeText($("code-text").textContent || "");
    say(t("copied"));
  } catch {
    say(t("copyFailed"));
  }
});
$("code-done").addEventListener("click", () => { $("code-box").hidden = true; $("message").focus(); });
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
// Crypto (~120 KB) is fetched after the first paint; the Start button waits for it (startready.js).
afterPaint(() => {
  const ready = loadCrypto();
  readyWhen(ready, $("start"), $("start-ready"));
  ready.then(boot, () => setStatus(t("error")));
});
