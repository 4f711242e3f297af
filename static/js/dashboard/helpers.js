// A second pair of eyes: the nurse who has a conversation asks a colleague (or a lead) of the
// service to join it. The colleague's team already holds the conversation key, so she reads
// and writes with what her dashboard has; the server lets her write only while she has joined
// in the holder's current tenure (a release, transfer, park or close ends it).
//  - the holder: "Be en kollega bli med" in the action panel, and who is in;
//  - the colleague: the request in the action panel ("Bli med" / "Nei takk"), then the
//    conversation in her list with a composer and "Forlat samtalen", and no holder's actions;
//  - everyone: "NN ble med i samtalen" / "NN forlot samtalen" as lines in the conversation.
import { t, fmt } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const invites = new Map(); // conversation -> the invited frame
const joining = new Set(); // conversations this page asked to join (shown when joined)
let ctx = null; // { send, current, conv, forget, members, serviceName, status }

export const JOINED = "helper_joined";
export const LEFT = "helper_left";

/** Wire the forms; ``c`` gives the page's state (see ``ctx`` above). */
export function installHelpers(c) {
  ctx = c;
  $("invite-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const cid = ctx.current();
    const who = $("invite-to").value;
    if (cid && who) ctx.send({ type: "invite", conversation: cid, nurse: who });
  });
  $("leave").addEventListener("click", () => {
    const cid = ctx.current();
    if (cid) ctx.send({ type: "leave", conversation: cid });
  });
}

/** A line of the conversation from the server (deliver from "system"): the message to show,
 *  and the conversation's list of helpers kept in step. */
export function systemLine(c, f) {
  const names = c.helpers || [];
  if (f.cmid === JOINED) {
    if (!names.includes(f.sender)) c.helpers = [...names, f.sender];
    return { kind: "system", text: fmt(t("helperJoined"), { name: f.sender }), meta: "" };
  }
  c.helpers = names.filter((n) => n !== f.sender);
  return { kind: "system", text: fmt(t("helperLeft"), { name: f.sender }), meta: "" };
}

/** A ``state`` frame for a conversation: true when it ends this nurse's place as a helper
 *  (the holder released, transferred, parked or closed it, or someone claimed it anew). */
export function onState(c, f) {
  if (f.helping !== undefined) { c.helping = f.helping; c.mine = false; }
  if (f.key_bundle) c.helpers = f.helpers || [];
  if (!c.helping || f.helping !== undefined) return false;
  if (f.state !== "active" || f.transferred || (f.nurse && !f.key_bundle)) {
    c.helping = false;
    return true;
  }
  return false;
}

export function onInvited(f) {
  invites.set(f.conversation, f);
  renderInvites();
}

export function onLeft(f) {
  ctx.forget(f.conversation);
  ctx.status(t("youLeft"));
}

/** The action panel's part for the conversation ``cid`` shown now. */
export function renderHelpers(cid, c) {
  const holds = c.state === "active" && c.mine !== false && !c.helping;
  const helps = c.state === "active" && Boolean(c.helping);
  $("helpers").hidden = !(holds || helps);
  $("invite-form").hidden = !holds;
  $("leave").hidden = !helps;
  $("helping-text").hidden = !helps;
  const names = c.helpers || [];
  $("helpers-list").textContent = names.length ? fmt(t("helpersIn"), { names: names.join(", ") }) : "";
  $("helpers-list").hidden = !names.length;
  if (helps) $("helping-text").textContent = t("helpingText");
  if (holds) {
    const sel = $("invite-to");
    const keep = sel.value;
    sel.replaceChildren();
    for (const m of ctx.members(c.service)) {
      const opt = document.createElement("option");
      opt.value = m.username; opt.textContent = m.name;
      sel.append(opt);
    }
    if (keep) sel.value = keep;
  }
}

function renderInvites() {
  const ul = $("invites");
  ul.replaceChildren();
  for (const [cid, f] of invites) {
    const li = document.createElement("li");
    const p = document.createElement("p");
    p.textContent = fmt(t("invitedText"), { by: f.by, ref: cid.slice(0, 6), service: ctx.serviceName(f.service) });
    const join = document.createElement("button");
    join.type = "button";
    join.className = "ds-button";
    join.dataset.variant = "primary";
    join.dataset.size = "sm";
    join.textContent = t("joinButton");
    join.setAttribute("aria-label", `${t("joinButton")}: ${t("conversation")} ${cid.slice(0, 6)}`);
    join.addEventListener("click", () => answer(cid, "join"));
    const no = document.createElement("button");
    no.type = "button";
    no.className = "ds-button";
    no.dataset.variant = "tertiary";
    no.dataset.size = "sm";
    no.textContent = t("declineButton");
    no.setAttribute("aria-label", `${t("declineButton")}: ${t("conversation")} ${cid.slice(0, 6)}`);
    no.addEventListener("click", () => answer(cid, "decline"));
    li.append(p, join, " ", no);
    ul.append(li);
  }
  $("invites-section").hidden = invites.size === 0;
}

/** Whether the joined conversation ``cid`` is one this page just asked to join (then it is
 *  shown at once, as a claimed one is). */
export function takeJoin(cid) {
  return joining.delete(cid);
}

function answer(cid, type) {
  invites.delete(cid);
  if (type === "join") joining.add(cid);
  renderInvites();
  ctx.send({ type, conversation: cid });
}
