// The youth's chat page: start or resume, chat, end, quick exit.
import { ReconnectingSocket, newCmid, fmt } from "./ws.js";
import { textToBody, bodyToText } from "./body.js";

const app = document.getElementById("app");
const t = (k) => app.dataset["t" + k[0].toUpperCase() + k.slice(1)] || k;
const $ = (id) => document.getElementById(id);
const KEY = "helseprat.conversation";

// ---- quick exit: first, so it works even if anything below fails ----------------------------
function quickExit() {
  const remember = localStorage.getItem(KEY) !== null;
  try { sessionStorage.clear(); } catch { /* ignore */ }
  if (!remember) { try { localStorage.removeItem(KEY); } catch { /* ignore */ } }
  location.replace($("quick-exit").dataset.url);
}
$("quick-exit").addEventListener("click", quickExit);
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !e.repeat) quickExit();
});

// ---- state ----------------------------------------------------------------------------------
function loadSaved() {
  const raw = sessionStorage.getItem(KEY) || localStorage.getItem(KEY);
  if (!raw) return null;
  try { return JSON.parse(raw); } catch { return null; }
}
let saved = loadSaved();
function persist() {
  const store = saved && saved.remember ? localStorage : sessionStorage;
  store.setItem(KEY, JSON.stringify(saved));
}
const pending = new Map(); // cmid -> {text, li}
let socket = null;
let pendingStart = null;
let pendingCode = null;

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

function setStatus(text) { $("conv-status").textContent = text; }

function onFrame(f) {
  switch (f.type) {
    case "started":
      saved = { conversation: f.conversation, token: f.token, service: f.service, last: 0,
                remember: $("remember").checked };
      persist();
      if (f.resume_code) {
        $("code-text").textContent = f.resume_code;
        $("code-box").hidden = false;
      }
      showChat();
      break;
    case "resumed":
      if (f.token && pendingCode !== null) {
        saved = { conversation: f.conversation, token: f.token, service: f.service, last: 0,
                  remember: false };
        pendingCode = null;
        persist();
      }
      showChat();
      break;
    case "state":
      if (f.state === "waiting") setStatus(fmt(t("waiting"), { pos: "…", n: "…" }));
      if (f.state === "active") setStatus(t("active"));
      if (f.state === "closed") {
        setStatus(t("closed"));
        $("composer").hidden = true;
        $("end").hidden = true;
      }
      break;
    case "queue": {
      let text = fmt(t("waiting"), { pos: f.position, n: f.waiting });
      if (f.expected_wait_s) text += " " + fmt(t("wait"), { min: Math.ceil(f.expected_wait_s / 60) });
      setStatus(text);
      break;
    }
    case "deliver": {
      if (!saved || f.seq <= saved.last) break;
      saved.last = f.seq;
      persist();
      let text;
      try { text = bodyToText(f.body); } catch { text = "⚠"; }
      if (f.from === "youth") {
        const p = pending.get(f.cmid);
        if (p) { p.li.querySelector(".meta").textContent = t("sent"); pending.delete(f.cmid); }
        else addMessage("me", text, t("you"));
      } else {
        addMessage("them", text, f.sender || t("nurse"));
        $("typing").hidden = true;
        if (document.hidden) document.title = "(1) " + document.title.replace(/^\(\d+\) /, "");
      }
      break;
    }
    case "ack": {
      const p = pending.get(f.cmid);
      if (p) { p.li.querySelector(".meta").textContent = t("sent"); pending.delete(f.cmid); }
      break;
    }
    case "typing":
      if (f.from === "nurse") {
        $("typing").hidden = false;
        clearTimeout(onFrame.typingTimer);
        onFrame.typingTimer = setTimeout(() => { $("typing").hidden = true; }, 5000);
      }
      break;
    case "error":
      if (f.code === "bad_token") {
        sessionStorage.removeItem(KEY); localStorage.removeItem(KEY); saved = null;
        $("start-view").hidden = false; $("chat-view").hidden = true;
      }
      if (f.ref && pending.has(f.ref)) {
        const p = pending.get(f.ref);
        p.li.querySelector(".meta").textContent = t("failed");
        p.li.querySelector(".meta").classList.add("failed");
      } else {
        setStatus(t("error") + " (" + f.code + ")");
      }
      break;
    case "reconnect":
      break;
  }
}

function connect() {
  socket = new ReconnectingSocket("/ws/youth", {
    onOpen() {
      $("banner").hidden = true;
      if (saved) {
        socket.send({ type: "resume", conversation: saved.conversation, token: saved.token,
                      after: saved.last || 0 });
        for (const [cmid, p] of pending) socket.send({ type: "send", cmid, body: p.body });
      } else if (pendingCode !== null) {
        socket.send({ type: "resume_code", code: pendingCode, after: 0 });
      } else if (pendingStart) {
        socket.send(pendingStart);
      }
    },
    onFrame,
    onDown() {
      $("banner").textContent = t("reconnecting");
      $("banner").hidden = false;
    },
  });
}

$("start").addEventListener("click", () => {
  pendingStart = { type: "start", service: app.dataset.service, resume_code: $("want-code").checked };
  $("start").disabled = true;
  if (socket && socket.open) socket.send(pendingStart); else if (!socket) connect();
});

$("resume-form").addEventListener("submit", (e) => {
  e.preventDefault();
  pendingCode = $("resume-code").value;
  if (socket && socket.open) socket.send({ type: "resume_code", code: pendingCode, after: 0 });
  else if (!socket) connect();
});

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("message").value.trim();
  if (!text || !saved) return;
  const cmid = newCmid();
  const body = textToBody(text);
  const li = addMessage("me", text, t("sending"));
  pending.set(cmid, { body, li });
  socket.send({ type: "send", cmid, body });
  $("message").value = "";
});

let lastTyping = 0;
$("message").addEventListener("input", () => {
  const now = Date.now();
  if (socket && saved && now - lastTyping > 3000) { lastTyping = now; socket.send({ type: "typing" }); }
});

$("end").addEventListener("click", () => { if (socket) socket.send({ type: "end" }); });
$("copy-code").addEventListener("click", () => {
  navigator.clipboard?.writeText($("code-text").textContent || "");
});
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) document.title = document.title.replace(/^\(\d+\) /, "");
});

if (saved && saved.service === app.dataset.service) { showChat(); connect(); }
