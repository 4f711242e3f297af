// The nurse dashboard: live queue, claim, chat, close.
import { ReconnectingSocket, newCmid } from "./ws.js";
import { textToBody, bodyToText } from "./body.js";

const dash = document.getElementById("dash");
const t = (k) => dash.dataset["t" + k[0].toUpperCase() + k.slice(1)] || k;
const $ = (id) => document.getElementById(id);

const convs = new Map(); // cid -> {state, service, messages: [], last}
let current = null;
let services = [];

function fmtWait(since) {
  const s = Math.max(0, Math.floor(Date.now() / 1000 - since));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min`;
}

function renderQueue(service, items) {
  const ul = $("q-" + service);
  if (!ul) return;
  ul.replaceChildren();
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = t("empty");
    ul.append(li);
    return;
  }
  for (const item of items) {
    const li = document.createElement("li");
    const info = document.createElement("span");
    info.className = "since";
    info.dataset.since = item.since;
    info.textContent = `${t("waitingSince")} ${fmtWait(item.since)} · ${item.online ? t("online") : t("offline")} `;
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "primary claim";
    btn.dataset.conversation = item.conversation;
    btn.textContent = t("claim");
    btn.addEventListener("click", () => socket.send({ type: "claim", conversation: item.conversation }));
    li.append(info, btn);
    ul.append(li);
  }
}
setInterval(() => {
  for (const el of document.querySelectorAll(".queue .since")) {
    el.firstChild.textContent = el.firstChild.textContent.replace(/\d+ (s|min)/, fmtWait(+el.dataset.since));
  }
}, 5000);

function renderMine() {
  const ul = $("mine");
  ul.replaceChildren();
  for (const [cid, c] of convs) {
    if (c.state === "closed") continue;
    const li = document.createElement("li");
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = `${t("youth")} · ${cid.slice(0, 6)}`;
    if (cid === current) btn.setAttribute("aria-current", "true");
    btn.addEventListener("click", () => select(cid));
    li.append(btn);
    ul.append(li);
  }
}

function select(cid) {
  current = cid;
  const c = convs.get(cid);
  $("chat-title").textContent = `${t("youth")} · ${cid.slice(0, 6)}`;
  const ol = $("messages");
  ol.replaceChildren();
  for (const m of c.messages) appendMessage(m);
  const active = c.state === "active";
  $("composer").hidden = !active;
  $("close-form").hidden = !active;
  const svc = services.find((s) => s.id === c.service);
  const sel = $("outcome");
  sel.replaceChildren();
  for (const o of svc ? svc.outcomes : []) {
    const opt = document.createElement("option");
    opt.value = o; opt.textContent = o;
    sel.append(opt);
  }
  renderMine();
  if (active) $("message").focus();
}

function appendMessage(m) {
  const li = document.createElement("li");
  li.className = m.kind;
  li.textContent = m.text;
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = m.meta;
  li.append(meta);
  $("messages").append(li);
  li.scrollIntoView({ block: "end" });
}

function conv(cid) {
  if (!convs.has(cid)) convs.set(cid, { state: "active", service: "", messages: [], last: 0 });
  return convs.get(cid);
}

function onFrame(f) {
  switch (f.type) {
    case "hello":
      services = f.services;
      for (const cid of f.open) socket.send({ type: "open", conversation: cid, after: conv(cid).last });
      break;
    case "queue_snapshot":
      renderQueue(f.service, f.items);
      break;
    case "claimed":
      conv(f.conversation);
      current = f.conversation;
      break;
    case "state": {
      const c = conv(f.conversation);
      c.state = f.state;
      if (f.service) c.service = f.service;
      if (f.state === "closed") c.messages.push({ kind: "system", text: t("closed"), meta: "" });
      if (f.conversation === current) select(current); else renderMine();
      break;
    }
    case "history_end":
      if (f.conversation === current) select(current);
      break;
    case "deliver": {
      const c = conv(f.conversation);
      if (f.seq <= c.last) break;
      c.last = f.seq;
      let text;
      try { text = bodyToText(f.body); } catch { text = "⚠"; }
      const m = f.from === "nurse"
        ? { kind: "me", text, meta: f.sender || t("you") }
        : { kind: "them", text, meta: t("youth") };
      c.messages.push(m);
      if (f.conversation === current) { appendMessage(m); $("typing").hidden = true; }
      break;
    }
    case "typing":
      if (f.conversation === current && f.from === "youth") {
        $("typing").hidden = false;
        clearTimeout(onFrame.tt);
        onFrame.tt = setTimeout(() => { $("typing").hidden = true; }, 5000);
      }
      break;
    case "error":
      $("dash-status").textContent = f.code === "already_claimed" ? t("taken") : f.message;
      break;
  }
}

const socket = new ReconnectingSocket("/ws/nurse", {
  onOpen() { $("dash-status").textContent = ""; },
  onFrame,
  onDown() { $("dash-status").textContent = "…"; },
});

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("message").value.trim();
  if (!text || !current) return;
  socket.send({ type: "send", conversation: current, cmid: newCmid(), body: textToBody(text) });
  $("message").value = "";
});
let lastTyping = 0;
$("message").addEventListener("input", () => {
  if (current && Date.now() - lastTyping > 3000) {
    lastTyping = Date.now();
    socket.send({ type: "typing", conversation: current });
  }
});
$("close-form").addEventListener("submit", (e) => {
  e.preventDefault();
  if (current) socket.send({ type: "close", conversation: current, outcome: $("outcome").value });
});
