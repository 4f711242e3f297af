// The concern report to child welfare (bekymringsmelding; docs/concern-report.md). For a thread
// linked to an ID-porten login the nurse fills the form and the server sends it through KS Fiks;
// for an anonymous thread the panel shows the duty to notify and whom to call instead. The form
// is the nurse's own text for the report, not chat content, so it goes to the server in clear
// (over TLS): the server envelopes it to the municipality's certificate.
import { t, label } from "./i18n.js";
import { fmtTime } from "./journal.js";

const $ = (id) => document.getElementById(id);
const FIELDS = ["concern-description", "concern-name", "concern-role", "concern-phone"];
let cfg = null; // from hello: {sendable: [service ids whose municipality takes reports]}
let csrf = "";
let shown = null; // the conversation id the panel is drawn for
const refs = new Map(); // cid -> the ref of the report being sent: a retry sends the same one
let sendLabel = ""; // the submit button's own words (the page's), before "Prøv igjen"

function labelButton(cid) {
  const button = $("concern-form").querySelector("button[type=submit]");
  if (!sendLabel) sendLabel = button.textContent;
  button.textContent = refs.has(cid) ? t("concernRetry") : sendLabel;
}

function showForm(open) {
  $("concern-form").hidden = !open;
  $("concern-open").setAttribute("aria-expanded", String(open));
  if (open) $("concern-cat-neglect").focus();
}

function line(text, number) {
  const li = document.createElement("li");
  const strong = document.createElement("strong");
  strong.textContent = number;
  li.append(`${text}: `, strong);
  return li;
}

function drawGuidance(g) {
  const ul = $("concern-numbers");
  ul.replaceChildren();
  if (g.phone) ul.append(line(g.child_welfare || t("concernChildWelfare"), g.phone));
  if (g.emergency_phone) ul.append(line(t("concernEmergency"), g.emergency_phone));
  ul.append(line(t("concernAlarm"), g.alarmtelefonen || "116 111"));
}

function drawReports(reports) {
  const ul = $("concern-log");
  ul.replaceChildren();
  for (const r of reports) {
    const li = document.createElement("li");
    const last = r.statuses[r.statuses.length - 1];
    li.className = last ? last.status : "";
    li.dataset.ref = r.ref;
    const steps = r.statuses.map((s) => `${label("concernStatus", s.status)} ${fmtTime(s.at).slice(11)}`);
    li.textContent = `${t("concernReport")} ${fmtTime(r.at)}: ${steps.join(" → ")}` + (r.stale ? ` ${t("concernStale")}` : "");
    ul.append(li);
  }
}

async function load(cid) {
  let r;
  try {
    r = await fetch(`/api/nurse/concern?conversation=${encodeURIComponent(cid)}`, { credentials: "same-origin" });
  } catch { return; }
  if (!r.ok || shown !== cid) return;
  const view = await r.json();
  if (shown !== cid) return;
  drawGuidance(view.guidance);
  drawReports(view.reports);
}

/** Draw the panel for the conversation shown (``c`` with ``service`` and ``verified``). */
export function renderConcern(cid, c) {
  const on = Boolean(cfg && cid && c);
  $("concern").hidden = !on;
  if (!on) { shown = null; return; }
  const changed = shown !== cid;
  shown = cid;
  const sendable = Boolean(c.verified) && cfg.sendable.includes(c.service);
  $("concern-guidance").hidden = sendable;
  $("concern-open").hidden = !sendable;
  if (!sendable || changed) {
    showForm(false);
    $("concern-msg").textContent = "";
  }
  if (changed) {
    labelButton(cid);
    $("concern-log").replaceChildren();
    load(cid);
  }
}

export function hideConcern() {
  shown = null;
  $("concern").hidden = true;
  showForm(false);
}

function collect(cid) {
  const categories = [...document.querySelectorAll("input[name=concern-cat]:checked")].map((x) => x.value);
  const value = (id) => $(id).value.trim();
  return {
    conversation: cid, ref: refs.get(cid), categories,
    description: value("concern-description"),
    urgency: document.querySelector("input[name=concern-urgency]:checked").value,
    youth_informed: document.querySelector("input[name=concern-informed]:checked").value === "yes",
    youth_informed_note: value("concern-informed-note"),
    reporter: { name: value("concern-name"), role: value("concern-role"), phone: value("concern-phone"),
                email: value("concern-email") },
  };
}

function invalid(body) {
  if (!body.categories.length) { $("concern-cat-neglect").focus(); return t("concernPick"); }
  const empty = FIELDS.find((id) => !$(id).value.trim());
  if (empty) { $(empty).focus(); return t("concernMissing"); }
  return "";
}

async function submit(cid) {
  if (!refs.has(cid)) refs.set(cid, crypto.randomUUID());
  const body = collect(cid);
  const problem = invalid(body);
  const msg = $("concern-msg");
  if (problem) { msg.textContent = problem; return; }
  const button = $("concern-form").querySelector("button[type=submit]");
  button.disabled = true;
  msg.textContent = t("concernSending");
  let r = null;
  try {
    r = await fetch("/api/nurse/concern", {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(body),
    });
  } catch { r = null; }
  button.disabled = false;
  const answer = r ? await r.json().catch(() => ({})) : {};
  if (r && r.ok) {
    refs.delete(cid);
    labelButton(cid);
    $("concern-form").reset();
    showForm(false);
    msg.textContent = t("concernSent");
    if (shown === cid) load(cid);
    $("concern-open").focus();
    return;
  }
  const code = (answer.error && answer.error.code) || "concern_unavailable";
  const text = label("concernError", code);
  msg.textContent = text === code ? (answer.error && answer.error.message) || code : text;
  // Refused for what it says (a bad field, not linked): a new try is a new report.
  if (code !== "concern_unavailable") refs.delete(cid);
  labelButton(cid);
}

/** Wire the panel; ``target()`` is the conversation shown ({cid, c}) or null. */
export function installConcern({ target, csrf: token, nurseName }) {
  csrf = token;
  $("concern-open").addEventListener("click", () => {
    $("concern-msg").textContent = "";
    if (!$("concern-name").value) $("concern-name").value = nurseName();
    showForm($("concern-form").hidden);
  });
  $("concern-cancel").addEventListener("click", () => {
    $("concern-form").reset();
    $("concern-msg").textContent = "";
    showForm(false);
    $("concern-open").focus();
  });
  $("concern-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const at = target();
    if (at) submit(at.cid);
  });
}

export function setConcernConfig(value) { cfg = value || null; }
