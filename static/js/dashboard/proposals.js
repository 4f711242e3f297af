// "Foreslå time": the nurse who has a thread the youth linked to an ID-porten login proposes a
// time (propose_appointment, docs/appointments.md); the youth answers under "Mine avtaler" and
// each appointment_status frame updates the thread's line. The proposal is not chat text: the
// server must read it to book it with the EPJ, so it is sent in clear (over TLS).
import { t, label } from "./i18n.js";

const $ = (id) => document.getElementById(id);
// Why a proposal was refused, in the nurse's words (the stable codes of proposals.py).
const REFUSALS = new Set(["proposal_in_past", "proposal_bad_time", "proposal_bad_duration",
                          "proposal_bad_place", "proposal_not_linked", "proposal_no_epj"]);

export function proposable(c, cfg) {
  return Boolean(cfg && cfg.appointment_services && c.verified && c.state === "active"
                 && cfg.appointment_services.includes(c.service) && c.mine !== false);
}

/** "12.12. kl. 10.00" from the frame's Europe/Oslo wall-clock "YYYY-MM-DDTHH:MM". */
function when(start) {
  const m = /^\d{4}-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(start || "");
  if (!m) return "";
  const english = $("dash").dataset.lang === "en";
  const day = english ? `${+m[2]}/${+m[1]}` : `${m[2]}.${m[1]}.`;
  const time = english ? `${m[3]}:${m[4]}` : `${m[3]}.${m[4]}`;
  return t("apptWhen").replace("{date}", day).replace("{time}", time);
}

function fillTypes(cfg) {
  const sel = $("appt-type");
  if (sel.options.length) return;
  const lang = $("dash").dataset.lang;
  const types = (cfg && cfg.appointment_types) || [];
  for (const ty of types.length ? types : [{ code: "SAMTALE", name: {} }]) {
    const o = document.createElement("option");
    o.value = ty.code;
    o.textContent = ty.name[lang] || ty.name.nb || ty.code;
    sel.append(o);
  }
}

function showForm(open) {
  $("appt-form").hidden = !open;
  $("appt-open").setAttribute("aria-expanded", String(open));
  if (open) $("appt-date").focus();
}

export function renderProposals(c, cfg) {
  const on = proposable(c, cfg);
  $("appt").hidden = !on && !c.appts.size;
  $("appt-open").hidden = !on;
  if (!on) showForm(false);
  fillTypes(cfg);
  const ul = $("appt-log");
  ul.replaceChildren();
  for (const [pid, a] of c.appts) {
    const li = document.createElement("li");
    li.className = a.status;
    li.dataset.proposalId = pid;
    const head = when(a.start);
    li.textContent = (head ? head + " – " : "") + label("appt", a.status);
    ul.append(li);
  }
}

/** A status frame: the reply to this nurse's proposal, a replay on open, or a live change. */
export function onProposalStatus(c, f, shown, cfg) {
  const known = c.appts.get(f.proposal_id);
  c.appts.set(f.proposal_id, { status: f.status, start: f.start || (known && known.start) || "" });
  if (f.proposal_id === c.apptPending) { // this form's proposal went through
    c.apptPending = null;
    if (shown) {
      $("appt-form").reset();
      $("appt-msg").textContent = "";
      showForm(false);
      $("appt-open").focus();
    }
  }
  if (shown) renderProposals(c, cfg);
}

/** The message for a refused proposal, or "" when the error is about something else. */
export function onProposalError(c, f, shown, cfg) {
  if (!c.apptPending) return "";
  c.appts.delete(c.apptPending);
  c.apptPending = null;
  const text = REFUSALS.has(f.code) ? label("apptError", f.code) : "";
  if (shown) {
    renderProposals(c, cfg);
    $("appt-msg").textContent = text || f.message || f.code;
  }
  return text;
}

/** Wire the button and the form; ``target()`` is the conversation shown, or null. */
export function installProposals({ target, send, cfg }) {
  $("appt-open").addEventListener("click", () => {
    $("appt-msg").textContent = "";
    showForm($("appt-form").hidden);
  });
  $("appt-cancel").addEventListener("click", () => {
    $("appt-form").reset();
    $("appt-msg").textContent = "";
    showForm(false);
    $("appt-open").focus();
  });
  $("appt-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const at = target();
    if (!at || !proposable(at.c, cfg())) return;
    const proposalId = crypto.randomUUID();
    const start = `${$("appt-date").value}T${$("appt-time").value}`;
    at.c.apptPending = proposalId;
    at.c.appts.set(proposalId, { status: "sending", start });
    $("appt-msg").textContent = "";
    send({ type: "propose_appointment", conversation: at.cid, proposal_id: proposalId, start,
           minutes: Number($("appt-minutes").value), place: $("appt-place").value.trim(),
           type_code: $("appt-type").value });
    renderProposals(at.c, cfg());
  });
}
