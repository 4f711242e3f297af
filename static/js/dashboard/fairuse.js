// Fair use and the nurse's load (docs/queue.md): pause new starts from the youth of the shown
// conversation (1 hour, 24 hours, 7 days) and lift it; a break ("Pause") that stops alerts
// and sounds, takes her off duty and refuses claims (the server decides both); her cap and
// the slots she uses.
import { t, fmt } from "./i18n.js";
import { confirmAction } from "./confirm.js";

const $ = (id) => document.getElementById(id);
let onBreak = false;
let send = () => false;
let shown = () => null;

/** True while the nurse is on a break: no sounds, no desktop notifications. */
export function isOnBreak() { return onBreak; }

function when(ts) {
  const lang = $("dash").dataset.lang;
  const locale = lang === "en" ? "en-GB" : lang === "nn" ? "nn-NO" : "nb-NO";
  return new Intl.DateTimeFormat(locale, { dateStyle: "short", timeStyle: "short" }).format(new Date(ts * 1000));
}

/** ``sendFrame(frame)`` sends on the dashboard's socket; ``current()`` is the shown conversation. */
export function installFairUse({ sendFrame, current }) {
  send = sendFrame; shown = current;
  $("break-toggle").addEventListener("click", () => send({ type: "set_break", on: !onBreak }));
  $("pause-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const cid = shown();
    if (!cid) return;
    const hours = Number($("pause-hours").value);
    const choice = $("pause-hours").selectedOptions[0].textContent;
    const ok = await confirmAction({ title: t("pauseTitle"), text: fmt(t("pauseText"), { time: choice }),
                                     confirm: t("pauseConfirm") });
    if (ok) send({ type: "pause_starts", conversation: cid, hours });
  });
  $("pause-lift").addEventListener("click", () => {
    const cid = shown();
    if (cid) send({ type: "lift_pause", conversation: cid });
  });
}

/** A conversation is shown (or none): ask whether its youth's new starts are paused. */
export function showPause(cid) {
  $("pause").hidden = !cid;
  $("pause-state").textContent = "";
  $("pause-lift").hidden = true;
  if (cid) send({ type: "start_pause", conversation: cid });
}

/** ``start_pause``: the confirmation of a pause or a lift, or the answer to showPause. */
export function onStartPause(f) {
  if (f.conversation !== shown()) return;
  $("pause-state").textContent = f.until ? fmt(t("pausedUntil"), { when: when(f.until) }) : t("notPaused");
  $("pause-lift").hidden = !f.until;
}

/** ``load``: her cap, the slots she uses, whether she is on a break. */
export function onLoad(f) {
  onBreak = Boolean(f.on_break);
  $("load").textContent = fmt(t("load"), { used: f.used, capacity: f.capacity });
  $("break-toggle").setAttribute("aria-pressed", String(onBreak));
  $("break-toggle").textContent = onBreak ? t("breakEnd") : t("breakStart");
  $("break-state").hidden = !onBreak;
}
