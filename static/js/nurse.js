// The nurse dashboard: unlock this device's keys, live queue across services (waiting times,
// alerts), claim, chat (E2E), canned replies, risk flags, transfer (re-sealing the conversation
// key to the receiving team), release and close; "send to journal" for ID-porten-verified threads
// (the note is sealed here, in the browser, to the journal gateway's key; docs/epj.md); "Foreslå time"
// there too (dashboard/proposals.js).
import { ReconnectingSocket, newCmid } from "./ws.js";
import * as e2e from "./e2e/index.js";
import "./e2e/eager.js"; // teamview.js reads crypto through e2e/lazy.js; here it is there at once
import { fetchTeam, verifyTeam, memberSignKeys } from "./teamview.js";
import * as reseal from "./reseal.js";
import { t, label, fmt } from "./dashboard/i18n.js";
import { confirmAction } from "./dashboard/confirm.js";
import { installShortcuts } from "./dashboard/shortcuts.js";
import { queueCard, claimButton, flagTag, tag, tickWaits } from "./dashboard/queue.js";
import { renderLater as drawLater, tickLater } from "./dashboard/later.js";
import { installPush } from "./dashboard/push.js";
import { JOURNAL_RANK, fmtTime, journalable as canJournal, renderJournal as drawJournal,
         renderPicked, sealNote } from "./dashboard/journal.js";
import { hideConcern, installConcern, renderConcern, setConcernConfig } from "./dashboard/concern.js";
import { installProposals, onProposalError, onProposalStatus, renderProposals } from "./dashboard/proposals.js";
import { installFairUse, isOnBreak, onLoad, onStartPause, showPause } from "./dashboard/fairuse.js";
import { installHelpers, systemLine, onState as helperState, onInvited, onLeft, renderHelpers,
  takeJoin } from "./dashboard/helpers.js";

const dash = document.getElementById("dash");
const $ = (id) => document.getElementById(id);
const csrf = document.querySelector("form.logout input[name=csrf]")?.value || "";
const DEVICE = "helseprat.nurse.device";
const NOTIFY = "helseprat.nurse.notify";
const SOUND = "helseprat.nurse.sound";
const AWAY = "helseprat.nurse.away"; // conversations claimed from "Svar senere" (this tab)

const convs = new Map(); // cid -> {state, service, messages: [], last, session, youthPk, ck, flag}
let current = null;
let services = []; // from hello: [{id, name, outcomes}]
let journalCfg = null; // from hello: {services: [...], gateway_key} when the EPJ link is on
let myName = "";
// Our sends wait here for their ack: the server does not deliver a message back to the tab that
// sent it, so the ack is when it is shown (as stored, with its time).
const sending = new Map(); // cmid -> { cid, text }
const shownOwn = new Set(); // cmids of our messages shown from an ack (a later deliver is skipped)
const svcInfo = new Map(); // id -> {target_wait_s, escalation, members}
let transferServices = [];
const queues = new Map(); // service -> items
const laters = new Map(); // service -> answer-later items (later_snapshot)
// Claimed from the answer-later list: the youth is not here live until she shows she is.
const away = new Set(JSON.parse(sessionStorage.getItem(AWAY) || "[]"));
const parking = new Set(); // conversations this tab asked to wait for the youth's answer
const boards = new Map(); // service -> {flags, on_duty, target_wait_s}
const canned = new Map(); // service -> [{id, text}]
const teamCache = new Map(); // service -> verified team (for history from other services)
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
    teamCache.set(service, team);
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
  loadCanned();
  if (!socket) connect();
}

async function teamOf(service) {
  if (!teamCache.has(service)) teamCache.set(service, await fetchTeam(service));
  return teamCache.get(service);
}

/** Open the conversation key; for a conversation transferred from another service, also accept
 *  the earlier teams' members and epochs, so its history verifies. */
async function openConversation(c, cid, history) {
  const entry = teams.get(c.service);
  if (!entry || !c.keyBundle) return;
  try {
    const bundle = e2e.decodeKeyBundle(e2e.b64decode(c.keyBundle));
    const opened = e2e.openKeyBundleWith(bundle, entry.keys);
    if (c.session && c.epoch === opened.epoch) return;
    c.ck = opened.ck;
    c.epoch = opened.epoch;
    c.youthPk = opened.youthSignPublicKey;
    let s = e2e.newSession(cid, opened.ck, opened.epoch,
      [opened.youthSignPublicKey, ...memberSignKeys(entry.team)], device.sign);
    for (const h of history || []) {
      try {
        const team = await teamOf(h.service);
        s = e2e.withSenders(e2e.withEpoch(s, h.epoch), memberSignKeys(team));
      } catch { /* that service's history stays unverifiable; messages show as such */ }
    }
    // Rotation: a re-sealed conversation keeps its key; earlier epochs of this team still verify.
    for (const epoch of entry.keys.keys()) if (epoch < opened.epoch) s = e2e.withEpoch(s, epoch);
    if (c.session) s = { ...s, windows: c.session.windows, nextSequence: c.session.nextSequence };
    c.session = Object.freeze(s);
    c.safety = e2e.safetyCode(entry.team.root, opened.youthSignPublicKey);
    c.keyError = null;
    // After a rotation, move this open conversation to the team's current epoch, so members
    // who only hold the new team key can read it (the server accepts only the current epoch).
    const current = entry.team.statement.epoch;
    // Only while it waits or when it is ours: the server refuses a colleague's active one.
    if (bundle.epoch < current && (c.state === "waiting" || (c.state === "active" && c.mine)) && socket) {
      const fresh = e2e.resealKeyBundle(bundle, entry.keys.get(bundle.epoch), entry.team.statement);
      socket.send({ type: "rekey", conversation: cid, key_bundle: e2e.b64encode(e2e.encodeKeyBundle(fresh)),
                    epoch: current });
    }
  } catch (err) {
    c.keyError = err && err.code;
  }
}

async function loadCanned() {
  try {
    const r = await fetch("/api/nurse/canned", { credentials: "same-origin" });
    if (!r.ok) return;
    for (const [svc, list] of Object.entries(await r.json())) canned.set(svc, list);
  } catch { /* canned replies are a convenience */ }
}

// ---- alerts: sound and (opt-in) desktop notifications --------------------------------------------
let audio = null;
const alerted = new Set(); // conversations we already alerted about as new
let lastRepeat = 0;

function soundOn() { return $("sound-on").checked; }
$("sound-on").checked = localStorage.getItem(SOUND) !== "off";
$("sound-on").addEventListener("change", () => localStorage.setItem(SOUND, soundOn() ? "on" : "off"));

function alertNurse(text) {
  if (isOnBreak()) return; // on a break: no sounds, no notifications
  dash.dataset.alerts = String(Number(dash.dataset.alerts || 0) + 1);
  if (soundOn()) {
    try {
      audio = audio || new Audio("/static/sounds/new-chat.wav");
      audio.currentTime = 0;
      const p = audio.play();
      if (p && p.catch) p.catch(() => {});
    } catch { /* no audio device */ }
  }
  if (localStorage.getItem(NOTIFY) === "on" && "Notification" in window && Notification.permission === "granted") {
    try { new Notification("helseprat", { body: text, tag: "helseprat-queue" }); } catch { /* ignore */ }
  }
}

$("notify-on").addEventListener("click", async () => {
  if (!("Notification" in window)) { $("notify-status").textContent = t("notifyDenied"); return; }
  const result = await Notification.requestPermission();
  if (result === "granted") {
    localStorage.setItem(NOTIFY, "on");
    $("notify-status").textContent = t("notifyOn");
  } else {
    $("notify-status").textContent = t("notifyDenied");
  }
});

function targetOf(service) {
  const b = boards.get(service);
  if (b) return b.target_wait_s;
  const info = svcInfo.get(service);
  return info ? info.target_wait_s : 120;
}

function checkAlerts() {
  let fresh = 0;
  let over = 0;
  const now = Date.now() / 1000;
  for (const [service, items] of queues) {
    for (const item of items) {
      if (!alerted.has(item.conversation)) { alerted.add(item.conversation); fresh += 1; }
      if (now - item.since > targetOf(service)) over += 1;
    }
  }
  if (fresh) { alertNurse(t("newChat")); lastRepeat = Date.now(); return; }
  // Repeat while someone waits longer than the service's target, at most once a minute.
  if (over && Date.now() - lastRepeat > 60000) { alertNurse(t("newChat")); lastRepeat = Date.now(); }
}

// ---- rendering ----------------------------------------------------------------------------------
function serviceName(id) {
  const s = services.find((x) => x.id === id) || transferServices.find((x) => x.id === id);
  return s ? s.name : id;
}

/** "Helsestasjon for ungdom, Demo kommune": the service and, unless its name says it, where. */
function serviceLabel(id) {
  const name = serviceName(id);
  const muni = svcInfo.get(id)?.municipality || "";
  return muni && !name.includes(muni) ? `${name}, ${muni}` : name;
}

function flagOf(cid) {
  for (const b of boards.values()) {
    const f = b.flags.find((x) => x.conversation === cid);
    if (f) return f.kind;
  }
  return convs.get(cid)?.flag || "";
}

function claim(cid) { socket.send({ type: "claim", conversation: cid }); }

function setAway(cid, on) {
  if (on) away.add(cid); else away.delete(cid);
  sessionStorage.setItem(AWAY, JSON.stringify([...away]));
  if (cid === current) $("away").hidden = !on;
}

function claimLater(cid) {
  setAway(cid, true);
  claim(cid);
}

function renderLater() {
  const settled = services.length > 0 && services.every((s) => laters.has(s.id));
  drawLater(laters, (item) => ({ flag: flagOf(item.conversation), serviceName: serviceName(item.service),
                                 onClaim: claimLater }), settled);
}

const FLAG_ORDER = { acute: 0, concern: 1 };
function waitingOrder(items) {
  return [...items].sort((a, b) => (FLAG_ORDER[flagOf(a.conversation)] ?? 2)
    - (FLAG_ORDER[flagOf(b.conversation)] ?? 2) || a.since - b.since);
}

function renderQueue(service) {
  const ul = $("q-" + service);
  if (!ul) return;
  const items = waitingOrder(queues.get(service) || []);
  ul.replaceChildren();
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = t("empty");
    ul.append(li);
  }
  const target = targetOf(service);
  for (const item of items) {
    ul.append(queueCard(item, { flag: flagOf(item.conversation), serviceName: serviceName(item.service || service),
                                target, onClaim: claim }));
  }
  markNextClaim();
}

/** The claim button Alt+Shift+T presses: flagged first, then the longest wait, any service. */
function nextClaim() {
  const all = [];
  for (const items of queues.values()) all.push(...items);
  const first = waitingOrder(all)[0];
  return first ? document.querySelector(`.queue button.claim[data-conversation="${first.conversation}"]`) : null;
}

function markNextClaim() {
  for (const b of document.querySelectorAll("button.claim[aria-keyshortcuts]")) b.removeAttribute("aria-keyshortcuts");
  nextClaim()?.setAttribute("aria-keyshortcuts", "Alt+Shift+T");
}

setInterval(() => {
  tickWaits();
  tickLater();
  checkAlerts();
}, 5000);

function renderBoard(service) {
  const b = boards.get(service);
  const duty = $("duty-" + service);
  if (duty && b) duty.textContent = `${t("onDuty")}: ${b.on_duty.length ? b.on_duty.join(", ") : t("nobody")}`;
  // Risk-flagged conversations of every service, pinned at the top for the whole team.
  const ul = $("pinned");
  ul.replaceChildren();
  const all = [];
  for (const [svc, board] of boards) for (const f of board.flags) all.push({ ...f, service: svc });
  all.sort((a, b) => (a.kind === "acute" ? 0 : 1) - (b.kind === "acute" ? 0 : 1));
  for (const f of all) {
    const li = document.createElement("li");
    li.className = "pinned-item flag-" + f.kind;
    li.dataset.conversation = f.conversation;
    li.append(flagTag(f.kind), ` ${t("conversation")} ${f.conversation.slice(0, 6)} · ${serviceLabel(f.service)} · `
      + (f.state === "waiting" ? t("inQueue") : f.state === "later" ? t("inLater") : `${t("hasIt")} ${f.nurse}`) + " ");
    if (f.state === "waiting") li.append(claimButton(f.conversation, claim));
    if (f.state === "later") li.append(claimButton(f.conversation, claimLater));
    ul.append(li);
  }
  $("pinned-section").hidden = all.length === 0;
  for (const svc of queues.keys()) renderQueue(svc);
  renderLater();
  renderMine();
}

function renderMine() {
  const ul = $("mine");
  ul.replaceChildren();
  const mine = [...convs.entries()].filter(([, c]) => c.state !== "closed" && c.state !== "later" && (c.mine !== false || c.helping));
  const order = { acute: 0, concern: 1 };
  mine.sort(([a], [b]) => (order[flagOf(a)] ?? 2) - (order[flagOf(b)] ?? 2));
  for (const [cid] of mine) {
    const li = document.createElement("li");
    const kind = flagOf(cid);
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "ds-button";
    btn.dataset.variant = cid === current ? "secondary" : "tertiary";
    if (kind) btn.append(flagTag(kind), " ");
    btn.append(`${t("conversation")} ${cid.slice(0, 6)} · ${serviceName(convs.get(cid).service)}`);
    btn.dataset.conversation = cid;
    if (cid === current) btn.setAttribute("aria-current", "true");
    btn.addEventListener("click", () => select(cid));
    li.append(btn);
    ul.append(li);
  }
}

function fillSelect(sel, options) {
  sel.replaceChildren();
  for (const [value, label] of options) {
    const opt = document.createElement("option");
    opt.value = value; opt.textContent = label;
    sel.append(opt);
  }
}

function select(cid) {
  current = cid;
  const c = convs.get(cid);
  renderTitle(cid, c);
  const ol = $("messages");
  ol.replaceChildren();
  c.messages.forEach((m, i) => appendMessage(m, c, i));
  const active = c.state === "active" && c.mine !== false;
  // A colleague the holder asked in writes too, but the holder's actions stay the holder's.
  const writes = active || (c.state === "active" && Boolean(c.helping));
  $("composer").hidden = !writes;
  $("close-form").hidden = !active;
  $("tools").hidden = !active;
  $("park").hidden = !active;
  $("context-empty").hidden = writes;
  showPause(cid);
  $("away").hidden = !(active && away.has(cid));
  const svc = services.find((s) => s.id === c.service);
  fillSelect($("outcome"), (svc ? svc.outcomes : []).map((o) => [o, label("outcome", o)]));
  fillSelect($("canned"), (canned.get(c.service) || []).map((r) => [r.id, r.text.length > 60 ? r.text.slice(0, 57) + "…" : r.text]));
  $("canned-form").hidden = !writes || !(canned.get(c.service) || []).length;
  const info = svcInfo.get(c.service);
  const targets = [];
  for (const m of info ? info.members : []) targets.push([`nurse:${c.service}:${m.username}`, `${t("colleague")}: ${m.name}`]);
  // The server refuses any other: a conversation stays in the municipality it was started in.
  const here = transferServices.find((s) => s.id === c.service);
  for (const s of transferServices) {
    if (s.id !== c.service && here && s.municipality === here.municipality) targets.push([`service:${s.id}`, `${t("service")}: ${t("queueOf")} ${s.name}`]);
  }
  fillSelect($("transfer-to"), targets);
  $("flag-kind").value = flagOf(cid) || "none";
  showEscalation(c);
  renderJournal(c);
  renderProposals(c, journalCfg);
  renderHelpers(cid, c);
  renderConcern(cid, c);
  renderMine();
  if (writes) $("message").focus();
}

/** "<service>, <municipality> · Samtale OzYA14 · Sikkerhetskode 1344 1141 2168", each part
 *  labelled, and the conversation's state as a tag. */
function renderTitle(cid, c) {
  const fact = (name, value) => {
    const span = document.createElement("span");
    span.className = "fact";
    const strong = document.createElement("strong");
    strong.textContent = value;
    span.append(`${name} `, strong);
    return span;
  };
  const title = $("chat-title");
  title.replaceChildren(serviceLabel(c.service), " · ", fact(t("conversation"), cid.slice(0, 6)));
  if (c.safety) title.append(" · ", fact(t("safetyCode"), c.safety));
  const st = $("chat-state");
  st.replaceChildren(tag(label("state", c.state), "state", c.state === "closed" ? "neutral" : "info"));
  st.hidden = false;
}

function showEscalation(c) {
  const info = svcInfo.get(c.service);
  const acute = current && flagOf(current) === "acute";
  $("escalation").hidden = !(acute && info && info.escalation);
  $("escalation-text").textContent = info ? info.escalation : "";
}

function appendMessage(m, c, index) {
  const li = document.createElement("li");
  li.className = m.kind;
  if (m.ok && c && journalable(c)) {
    // Pick this message for the journal note (only messages that opened and verified).
    const box = document.createElement("input");
    box.type = "checkbox";
    box.className = "pick";
    box.dataset.index = String(index);
    box.checked = c.picked.has(index);
    box.setAttribute("aria-label", `${t("pick")}: ${m.who} ${fmtTime(m.ts)}`);
    box.addEventListener("change", () => {
      if (box.checked) c.picked.add(index); else c.picked.delete(index);
      renderPicked(c);
    });
    li.append(box);
  }
  li.append(m.text);
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = m.meta;
  li.append(meta);
  $("messages").append(li);
  li.scrollIntoView({ block: "end" });
}

function addMessage(cid, m) {
  const c = conv(cid);
  c.messages.push(m);
  if (cid === current) appendMessage(m, c, c.messages.length - 1);
}

function conv(cid) {
  if (!convs.has(cid)) {
    convs.set(cid, { state: "active", service: "", messages: [], last: 0, session: null,
                     picked: new Set(), journal: new Map(), appts: new Map(), apptPending: null });
  }
  return convs.get(cid);
}

// ---- send to journal ----------------------------------------------------------------------------
const journalable = (c) => canJournal(c, journalCfg);
const renderJournal = (c) => drawJournal(c, journalCfg);

function onJournalStatus(f) {
  const c = conv(f.conversation);
  const known = c.journal.get(f.msg_id);
  if (known && (JOURNAL_RANK[known.status] ?? -1) >= (JOURNAL_RANK[f.status] ?? -1)) return;
  c.journal.set(f.msg_id, { status: f.status, text: f.text || "", at: f.at || (known && known.at) || 0 });
  if (f.conversation === current) renderJournal(c);
}

function status(text) { $("dash-status").textContent = text; }

function openText(c, body) {
  try {
    const [next, msg] = e2e.openMessage(c.session, body);
    c.session = next;
    return { ok: true, text: e2e.utf8Decode(msg.plaintext) };
  } catch {
    return { ok: false, text: "⚠ " + (dash.dataset.tUnverified || "Meldingen kunne ikke bekreftes og vises ikke.") };
  }
}

// Frames are handled one at a time, in order: opening a transferred conversation may fetch
// the earlier team first, and its history must not be decrypted before that.
let chain = Promise.resolve();
function onFrame(f) {
  chain = chain.then(() => handle(f)).catch(() => {});
}

async function handle(f) {
  switch (f.type) {
    case "hello":
      services = f.services;
      journalCfg = f.journal || null;
      setConcernConfig(f.concern);
      myName = f.nurse || "";
      for (const cid of f.open) {
        conv(cid).mine = true;
        socket.send({ type: "open", conversation: cid, after: conv(cid).last });
      }
      break;
    case "dashboard":
      transferServices = f.transfer_services;
      for (const s of f.services) svcInfo.set(s.id, s);
      break;
    case "queue_snapshot":
      queues.set(f.service, f.items);
      renderQueue(f.service);
      checkAlerts();
      break;
    case "later_snapshot":
      laters.set(f.service, f.items);
      renderLater();
      break;
    case "start_pause":
      onStartPause(f);
      break;
    case "load":
      onLoad(f);
      break;
    case "board":
      boards.set(f.service, f);
      renderBoard(f.service);
      if (current) showEscalation(convs.get(current));
      break;
    case "claimed":
      conv(f.conversation).mine = true;
      current = f.conversation;
      break;
    case "assigned":
      conv(f.conversation).mine = true;
      current = f.conversation;
      status(t("assigned"));
      alertNurse(t("assigned"));
      break;
    case "state": {
      const c = conv(f.conversation);
      if (helperState(c, f)) { forget(f.conversation); status(t("helperEnded")); break; }
      if (f.helping && takeJoin(f.conversation)) { current = f.conversation; status(""); }
      const prev = c.state;
      c.state = f.state;
      if (f.flag !== undefined) c.flag = f.flag;
      if (f.verified) c.verified = f.verified;
      // Moved to a colleague or another service: the sender's "transferred" reply follows, and
      // the receiver's dashboard opens it on "assigned" (or it shows in the receiving queue).
      if (f.transferred) break;
      if (f.state === "later") { leftForLater(f.conversation, prev); break; }
      if (f.service) c.service = f.service;
      if (f.key_bundle) { c.keyBundle = f.key_bundle; await openConversation(c, f.conversation, f.history); }
      if (f.state === "closed" && prev !== "closed") c.messages.push({ kind: "system", text: t("closed"), meta: "" });
      if (f.state === "closed") setAway(f.conversation, false);
      if (f.conversation === current) select(current); else renderMine();
      break;
    }
    case "history_end":
      conv(f.conversation).live = true; // what follows is live, not history
      if (f.conversation === current) select(current);
      break;
    case "ack": {
      // An ack stands in the sequence where our message is (this tab gets no deliver of it).
      if (f.conversation && !f.duplicate) {
        const c = conv(f.conversation);
        if (f.seq > c.last) c.last = f.seq;
      }
      const s = sending.get(f.cmid);
      if (!s) break;
      sending.delete(f.cmid);
      if (shownOwn.has(f.cmid)) break;
      shownOwn.add(f.cmid);
      addMessage(s.cid, { kind: "me", text: s.text, meta: myName || t("you"), ok: true,
                          ts: f.ts || Math.floor(Date.now() / 1000), who: myName });
      break;
    }
    case "deliver": {
      const c = conv(f.conversation);
      if (f.seq <= c.last) break;
      c.last = f.seq;
      if (f.from === "system") { // a line of the conversation: a colleague joined or left
        addMessage(f.conversation, systemLine(c, f));
        if (f.conversation === current) renderHelpers(current, c);
        break;
      }
      if (f.from === "nurse" && shownOwn.has(f.cmid)) break;
      const opened = openText(c, f.body);
      const m = f.from === "nurse"
        ? { kind: opened.ok ? "me" : "me failed", text: opened.text, meta: f.sender || t("you"),
            ok: opened.ok, ts: f.ts, who: f.sender || myName }
        : { kind: opened.ok ? "them" : "them failed", text: opened.text, meta: t("youth"),
            ok: opened.ok, ts: f.ts, who: "Ungdom" };
      addMessage(f.conversation, m);
      if (f.conversation === current) $("typing").hidden = true;
      if (f.from === "youth" && c.live) setAway(f.conversation, false); // she wrote just now: here

      break;
    }
    case "note": {
      const c = conv(f.conversation);
      const opened = openText(c, f.body);
      addMessage(f.conversation, { kind: opened.ok ? "note" : "note failed", text: opened.text,
                                   meta: `${t("note")} · ${f.sender}` });
      break;
    }
    case "system":
      addMessage(f.conversation, { kind: "system", text: (f.text && (f.text[dash.dataset.lang] || f.text.nb)) || f.code,
                                   meta: t("systemNotice") });
      break;
    case "typing":
      if (f.conversation === current && f.from === "youth") {
        if (!f.stopped) setAway(f.conversation, false);
        clearTimeout(handle.tt);
        $("typing").hidden = Boolean(f.stopped);
        if (f.stopped) break;
        handle.tt = setTimeout(() => { $("typing").hidden = true; }, 5000);
      }
      break;
    case "invited":
      onInvited(f);
      status(fmt(t("invitedText"), { by: f.by, ref: f.conversation.slice(0, 6), service: serviceName(f.service) }));
      alertNurse(t("invitedAlert"));
      break;
    case "invite_sent":
      status(t("inviteSent"));
      break;
    case "left":
      onLeft(f);
      break;
    case "transferred":
      convs.delete(f.conversation);
      if (current === f.conversation) { current = null; clearChat(); }
      renderMine();
      status(t("transferred"));
      break;
    case "flagged": {
      const c = conv(f.conversation);
      c.flag = f.flag === "none" ? "" : f.flag;
      status(t("flagSaved"));
      if (f.conversation === current) select(current);
      break;
    }
    case "journal_status":
      onJournalStatus(f);
      break;
    case "appointment_status":
      onProposalStatus(conv(f.conversation), f, f.conversation === current, journalCfg);
      break;
    case "device_pending": { // identity bridge: a logged-in youth's new device (reseal.js)
      const c = conv(f.conversation);
      const entry = teams.get(c.service);
      if (c.ck) reseal.onDevicePending(f, { ck: c.ck, statement: entry && entry.team.statement, send: (x) => socket.send(x) });
      break;
    }
    case "device_ready": {
      const c = conv(f.conversation);
      const entry = teams.get(c.service);
      if (c.session) c.session = reseal.onDeviceReady(f, c.session, entry && entry.keys);
      break;
    }
    case "error":
      if (f.code === "session_ended") { // logged out elsewhere or disabled: sign in again
        socket.stop();
        location.assign("/nurse/login");
        break;
      }
      let refused = "";
      if (f.ref && convs.has(f.ref)) { // a refused journal note: forget the one still "sending"
        const c = convs.get(f.ref);
        for (const [id, j] of c.journal) if (j.status === "sending") c.journal.delete(id);
        if (f.ref === current) renderJournal(c);
        refused = onProposalError(c, f, f.ref === current, journalCfg); // or a proposed time
      }
      status(refused || (f.code === "already_claimed" ? t("taken")
        : f.code === "capacity_reached" ? t("capacity")
        : f.code === "on_break" ? t("onBreak")
        : f.code === "not_authorized" ? t("notAuthorized")
        : f.code === "bad_invite" ? t("badInvite")
        : f.code === "journal_not_verified" ? t("journalNotVerified")
        : f.code === "journal_unavailable" ? t("journalUnavailable") : f.message));
      break;
  }
}

/** The conversation went to "Svar senere" (this nurse parked it, or the youth left and asked to
 *  be answered later): it leaves her list; the answer-later list shows it if one is owed. */
function leftForLater(cid, prev) {
  const parked = parking.delete(cid);
  const held = prev === "active" && convs.get(cid)?.mine === true;
  convs.delete(cid);
  setAway(cid, false);
  if (current === cid) { current = null; clearChat(); }
  renderMine();
  if (parked) status(t("parked"));
  else if (held) status(t("youthLeft"));
}

function forget(cid) {
  convs.delete(cid);
  if (current === cid) { current = null; clearChat(); }
  renderMine();
}

function clearChat() {
  $("chat-title").textContent = "";
  $("messages").replaceChildren();
  for (const id of ["composer", "close-form", "tools", "escalation", "journal", "appt", "canned-form", "chat-state", "away", "park", "helpers", "pause"]) $(id).hidden = true;
  $("context-empty").hidden = false;
  $("journal-log").replaceChildren();
  $("appt-log").replaceChildren();
  hideConcern();
}

function connect() {
  socket = new ReconnectingSocket("/ws/nurse", {
    onOpen() { status(""); },
    onFrame,
    onDown() { status("…"); },
  });
}

function sendSealed(cid, text) {
  const c = convs.get(cid);
  const [next, body] = e2e.sealMessage(c.session, e2e.utf8Encode(text));
  c.session = next;
  return body;
}

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("message").value.trim();
  const c = current && convs.get(current);
  if (!text || !c || !c.session) return;
  const cmid = newCmid();
  sending.set(cmid, { cid: current, text });
  socket.send({ type: "send", conversation: current, cmid, body: sendSealed(current, text) });
  $("message").value = "";
});
let lastTyping = 0;
$("message").addEventListener("input", () => {
  // A cleared field says so at once, so the youth's "skriver …" does not linger.
  if (current && !$("message").value) {
    lastTyping = 0;
    socket.send({ type: "typing", conversation: current, stopped: true });
  } else if (current && Date.now() - lastTyping > 3000) {
    lastTyping = Date.now();
    socket.send({ type: "typing", conversation: current });
  }
});
$("canned-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const c = current && convs.get(current);
  const reply = c && (canned.get(c.service) || []).find((r) => r.id === $("canned").value);
  if (!reply) return;
  const box = $("message");
  box.value = box.value ? box.value.replace(/\s*$/, " ") + reply.text : reply.text;
  box.focus();
});
$("flag-form").addEventListener("submit", (e) => {
  e.preventDefault();
  if (current) socket.send({ type: "flag", conversation: current, kind: $("flag-kind").value });
});
$("release").addEventListener("click", async () => {
  const cid = current;
  if (!cid) return;
  const ok = await confirmAction({ title: t("confirmReleaseTitle"), text: t("confirmReleaseText"),
                                   confirm: t("confirmRelease") });
  if (!ok || current !== cid) return;
  socket.send({ type: "release", conversation: cid });
  convs.delete(cid);
  current = null;
  clearChat();
  renderMine();
  status(t("released"));
});
$("park-later").addEventListener("click", async () => {
  const cid = current;
  if (!cid) return;
  const ok = await confirmAction({ title: t("confirmParkTitle"), text: t("confirmParkText"),
                                   confirm: t("confirmPark") });
  if (!ok || current !== cid) return;
  parking.add(cid);
  socket.send({ type: "later", conversation: cid });
});
$("transfer-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const cid = current;
  const c = cid && convs.get(cid);
  const choice = $("transfer-to").value;
  if (!c || !c.session || !choice) return;
  const picked = $("transfer-to").selectedOptions[0];
  const ok = await confirmAction({ title: t("confirmTransferTitle"),
                                   text: fmt(t("confirmTransferText"), { target: picked ? picked.textContent : choice }),
                                   confirm: t("confirmTransfer") });
  if (!ok || current !== cid) return;
  const parts = choice.split(":");
  const frame = { type: "transfer", conversation: cid };
  let target = c.service;
  if (parts[0] === "nurse") frame.to_nurse = parts[2];
  else { target = parts[1]; frame.to_service = target; }
  try {
    if (target !== c.service) {
      // Re-seal the conversation key to the receiving team, here in the browser.
      let tm = null;
      try { tm = await fetchTeam(target); } catch { tm = null; } // a service without a team key
      if (tm) {
        const bundle = e2e.makeKeyBundle(c.ck, c.youthPk, tm.statement);
        frame.key_bundle = e2e.b64encode(e2e.encodeKeyBundle(bundle));
        frame.epoch = tm.statement.epoch;
      }
    }
    const note = $("transfer-note").value.trim();
    if (note) frame.note = sendSealed(cid, note); // sealed like a message, kept nurse-only
  } catch (err) {
    status((err && err.code) || String(err));
    return;
  }
  socket.send(frame);
  $("transfer-note").value = "";
});
$("journal-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const cid = current;
  const c = cid && convs.get(cid);
  if (!c || !journalable(c)) return;
  const summary = $("journal-summary").value.trim();
  if (!summary) { status(t("journalEmpty")); return; }
  let made;
  try {
    made = sealNote(cid, c, summary, myName, journalCfg);
  } catch (err) {
    status((err && err.code) || String(err));
    return;
  }
  if (!made) { status(t("journalTooLong")); return; }
  c.journal.set(made.msgId, { status: "sending", text: "", at: Math.floor(Date.now() / 1000) });
  socket.send({ type: "journal", conversation: cid, msg_id: made.msgId, sealed_note: made.sealed });
  $("journal-summary").value = "";
  c.picked.clear();
  for (const box of document.querySelectorAll("#messages .pick")) box.checked = false;
  renderJournal(c);
});
async function closeCurrent() {
  const cid = current;
  const c = cid && convs.get(cid);
  if (!c || c.state !== "active" || c.mine === false) return;
  const outcome = $("outcome").value;
  const ok = await confirmAction({ title: t("confirmCloseTitle"),
                                   text: fmt(t("confirmCloseText"), { outcome: label("outcome", outcome) }),
                                   confirm: t("confirmClose"), danger: true });
  if (ok && current === cid) socket.send({ type: "close", conversation: cid, outcome });
}
$("close-form").addEventListener("submit", (e) => {
  e.preventDefault();
  closeCurrent();
});

installPush({ csrf, lang: dash.dataset.lang });
installFairUse({ sendFrame: (frame) => Boolean(socket && socket.send(frame)), current: () => current });
installHelpers({ send: (frame) => socket.send(frame), current: () => current, conv, forget, status,
                 members: (service) => (svcInfo.get(service) || { members: [] }).members,
                 serviceName });
installConcern({ target: () => (current && convs.has(current) ? { cid: current, c: convs.get(current) } : null),
                 csrf, nurseName: () => myName });
installProposals({ target: () => (current && convs.has(current) ? { cid: current, c: convs.get(current) } : null),
                   send: (frame) => socket.send(frame), cfg: () => journalCfg });

installShortcuts({
  claimNext() { nextClaim()?.click(); },
  reply() { if (!$("composer").hidden) $("message").focus(); },
  close() { if (!$("close-form").hidden) closeCurrent(); },
  send() { $("composer").requestSubmit(); },
});

// Unlock with the password the login page kept for this one load, or the keys of this tab.
const stashed = sessionStorage.getItem("helseprat.unlock");
sessionStorage.removeItem("helseprat.unlock");
const kept = sessionStorage.getItem(DEVICE);
if (kept) { try { device = deviceFromStorage(kept); } catch { device = null; } }
start(stashed || "");
