// The nurse dashboard: unlock this device's keys, live queue, claim, chat (E2E), close.
import { ReconnectingSocket, newCmid } from "./ws.js";
import * as e2e from "./e2e/index.js";
import { verifyTeam, memberSignKeys } from "./teamview.js";

const dash = document.getElementById("dash");
const t = (k) => dash.dataset["t" + k[0].toUpperCase() + k.slice(1)] || k;
const $ = (id) => document.getElementById(id);
const csrf = document.querySelector("form.logout input[name=csrf]")?.value || "";
const DEVICE = "helseprat.nurse.device";

const convs = new Map(); // cid -> {state, service, messages: [], last, session, youthPk}
let current = null;
let services = [];
let socket = null;
let device = null; // {box, sign}
const teams = new Map(); // service -> {team, keys: Map(epoch -> TeamKey)}

// ---- keys ---------------------------------------------------------------------------------------
function deviceToStorage(d) {
  return JSON.stringify({ box: e2e.b64encode(d.box.secretKey), sign: e2e.b64encode(d.sign.seed) });
}
function deviceFromStorage(raw) {
  const o = JSON.parse(raw);
  return { box: e2e.boxKeypairFromSecret(e2e.b64decode(o.box)), sign: e2e.signKeypair(e2e.b64decode(o.sign)) };
}

async function unlock(password) {
  const r = await fetch("/api/nurse/keys", { credentials: "same-origin" });
  if (!r.ok) throw new Error("keys " + r.status);
  const data = await r.json();
  if (data.device === null) {
    if (!password) return "need_password";
    // First login anywhere: make this nurse's device keys, wrapped with her password.
    const d = e2e.deviceKeys();
    const wrapped = e2e.wrapDeviceKeys(d, password);
    const post = await fetch("/api/nurse/device", {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify({ wrapped: e2e.b64encode(wrapped), box: e2e.b64encode(d.box.publicKey),
                             sign: e2e.b64encode(d.sign.publicKey) }),
    });
    if (!post.ok) throw new Error("device " + post.status);
    device = d;
  } else if (!device) {
    if (!password) return "need_password";
    device = e2e.unwrapDeviceKeys(e2e.b64decode(data.device.wrapped), password); // throws on a wrong password
  }
  sessionStorage.setItem(DEVICE, deviceToStorage(device));
  teams.clear();
  for (const [service, tj] of Object.entries(data.teams)) {
    const team = verifyTeam(tj);
    const keys = new Map();
    for (const [epoch, sealed] of Object.entries(tj.sealed || {})) {
      const st = e2e.verifyTeamStatement(e2e.b64decode(tj.statements[epoch]), team.root, service);
      keys.set(Number(epoch), e2e.openTeamKey(e2e.b64decode(sealed), device.box, st));
    }
    teams.set(service, { team, keys });
  }
  return "ok";
}

function showUnlock(message) {
  let form = $("unlock-form");
  if (!form) {
    form = document.createElement("form");
    form.id = "unlock-form";
    form.className = "unlock";
    const label = document.createElement("label");
    label.htmlFor = "unlock-password";
    label.textContent = dash.dataset.tUnlock || "Passord for å låse opp krypteringsnøklene";
    const input = document.createElement("input");
    input.type = "password"; input.id = "unlock-password"; input.autocomplete = "current-password";
    const btn = document.createElement("button");
    btn.type = "submit"; btn.className = "primary"; btn.textContent = dash.dataset.tUnlockButton || "Lås opp";
    const msg = document.createElement("p");
    msg.id = "unlock-message"; msg.setAttribute("role", "alert");
    form.append(label, input, btn, msg);
    dash.prepend(form);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      start(input.value);
    });
  }
  form.hidden = false;
  $("unlock-message").textContent = message || "";
}

async function start(password) {
  try {
    const status = await unlock(password);
    if (status === "need_password") { showUnlock(); return; }
  } catch (err) {
    showUnlock(err && err.code === "e2e_wrong_password"
      ? (dash.dataset.tWrongPassword || "Feil passord.") : (dash.dataset.tKeyError || "Kunne ikke låse opp nøklene."));
    return;
  }
  if ($("unlock-form")) $("unlock-form").hidden = true;
  $("dash-status").dataset.unlocked = "true";
  if (!socket) connect();
}

function openConversation(c, cid) {
  const entry = teams.get(c.service);
  if (!entry || !c.keyBundle || c.session) return;
  try {
    const bundle = e2e.decodeKeyBundle(e2e.b64decode(c.keyBundle));
    const opened = e2e.openKeyBundleWith(bundle, entry.keys);
    c.youthPk = opened.youthSignPublicKey;
    c.session = e2e.newSession(cid, opened.ck, opened.epoch,
      [opened.youthSignPublicKey, ...memberSignKeys(entry.team)], device.sign);
    c.safety = e2e.safetyCode(entry.team.root, opened.youthSignPublicKey);
  } catch (err) {
    c.keyError = err && err.code;
  }
}

// ---- rendering ----------------------------------------------------------------------------------
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
    btn.dataset.conversation = cid;
    if (cid === current) btn.setAttribute("aria-current", "true");
    btn.addEventListener("click", () => select(cid));
    li.append(btn);
    ul.append(li);
  }
}

function select(cid) {
  current = cid;
  const c = convs.get(cid);
  $("chat-title").textContent = `${t("youth")} · ${cid.slice(0, 6)}` + (c.safety ? ` · ${c.safety}` : "");
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
  if (!convs.has(cid)) convs.set(cid, { state: "active", service: "", messages: [], last: 0, session: null });
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
      if (f.key_bundle) { c.keyBundle = f.key_bundle; openConversation(c, f.conversation); }
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
      let ok = false;
      try {
        const [next, msg] = e2e.openMessage(c.session, f.body);
        c.session = next;
        text = e2e.utf8Decode(msg.plaintext);
        ok = true;
      } catch {
        text = "⚠ " + (dash.dataset.tUnverified || "Meldingen kunne ikke bekreftes og vises ikke.");
      }
      const m = f.from === "nurse"
        ? { kind: "me", text, meta: f.sender || t("you") }
        : { kind: ok ? "them" : "them failed", text, meta: t("youth") };
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

function connect() {
  socket = new ReconnectingSocket("/ws/nurse", {
    onOpen() { $("dash-status").textContent = ""; },
    onFrame,
    onDown() { $("dash-status").textContent = "…"; },
  });
}

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("message").value.trim();
  const c = current && convs.get(current);
  if (!text || !c || !c.session) return;
  const [next, body] = e2e.sealMessage(c.session, e2e.utf8Encode(text));
  c.session = next;
  socket.send({ type: "send", conversation: current, cmid: newCmid(), body });
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

// Unlock with the password the login page kept for this one load, or the keys of this tab.
const stashed = sessionStorage.getItem("helseprat.unlock");
sessionStorage.removeItem("helseprat.unlock");
const kept = sessionStorage.getItem(DEVICE);
if (kept) { try { device = deviceFromStorage(kept); } catch { device = null; } }
start(stashed || "");
