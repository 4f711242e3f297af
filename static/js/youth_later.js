// The youth's side of answer-later: the conversation waits for a nurse's written answer (state
// "later"). The status says by when ("Vi svarer deg innen fredag kl. 15.00."), the composer
// stays, and "Svar meg senere" moves a live waiting or active chat there (asked first).
import { fmt } from "./ws.js";

const app = typeof document === "undefined" ? { dataset: {} } : document.getElementById("app");
const $ = (id) => document.getElementById(id);
const t = (k) => app.dataset["t" + k[0].toUpperCase() + k.slice(1)] || "";
const WEEK = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** Year, month, day, weekday (Monday 0), hour and minute of a unix time in a time zone. */
function local(ts, tz) {
  const f = new Intl.DateTimeFormat("en-US", { timeZone: tz, year: "numeric", month: "numeric",
    day: "numeric", weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const p = Object.fromEntries(f.formatToParts(new Date(ts * 1000)).map((x) => [x.type, x.value]));
  return { y: +p.year, m: +p.month, d: +p.day, wd: WEEK.indexOf(p.weekday), hh: p.hour, mm: p.minute };
}

/**
 * The promised time in words, the way the server says it (chat/domain/later.py): "innen i dag
 * kl. 15.00", "innen i morgen …", "innen fredag …", further off "innen fredag 18.12. …".
 * @param {number} due unix seconds
 * @param {number} now unix seconds
 * @param {{tz: string, lang: string, today: string, tomorrow: string, day: string, weekdays: string[]}} words
 */
export function dueWords(due, now, words) {
  const a = local(now, words.tz);
  const b = local(due, words.tz);
  const days = (Date.UTC(b.y, b.m - 1, b.d) - Date.UTC(a.y, a.m - 1, a.d)) / 86_400_000;
  const time = b.hh + (words.lang === "en" ? ":" : ".") + b.mm;
  if (days <= 0) return fmt(words.today, { time });
  if (days === 1) return fmt(words.tomorrow, { time });
  const name = words.weekdays[b.wd] || "";
  return fmt(words.day, { day: days < 7 ? name : `${name} ${b.d}.${b.m}.`, time });
}

function pageWords() {
  return { tz: app.dataset.tz || "Europe/Oslo", lang: app.dataset.lang || "nb",
           today: t("laterToday"), tomorrow: t("laterTomorrow"), day: t("laterDay"),
           weekdays: (app.dataset.tWeekdays || "").split(",") };
}

// "i dag" and "i morgen" count from the server's clock, not a phone's that may be off.
const skew = app.dataset.now ? Number(app.dataset.now) - Date.now() / 1000 : 0;
const now = () => Date.now() / 1000 + skew;

let ctx = { send: () => false, remember() {}, remembered: () => false, setStatus() {} };

export const later = {
  on: false, // the conversation is in state "later"
  current: "", // the conversation's state
  due: null, // the promise the server gave with the state (unix seconds), while one is owed
  lastFrom: "", // who wrote the latest message: "youth" or "nurse"
  history: 0, // messages up to this sequence are history being replayed, not news

  historyUntil(seq) { this.history = seq || 0; },

  state(state, due) {
    this.current = state;
    this.on = state === "later";
    if (this.on) this.due = typeof due === "number" ? due : null;
    render();
  },

  message(from, seq) {
    if (from !== "youth" && from !== "nurse") return;
    // A nurse's answer now (not one read back from history): nothing is owed any more.
    if (from === "nurse" && seq > this.history) this.due = null;
    this.lastFrom = from;
    if (this.on) render();
  },

  /** The button and its question; `c` gives what youth.js owns (socket, storage, status). */
  wire(c) {
    ctx = c;
    const button = $("later");
    const dialog = $("later-dialog");
    if (!button || !dialog) return;
    button.addEventListener("click", () => {
      $("later-remember-field").hidden = ctx.remembered();
      $("later-remember").checked = false;
      dialog.showModal();
    });
    dialog.addEventListener("close", () => {
      if (dialog.returnValue === "later") {
        if ($("later-remember").checked) ctx.remember();
        ctx.send({ type: "later" });
      }
      dialog.returnValue = "";
    });
  },
};

function statusText() {
  if (later.lastFrom === "nurse") return t("laterAnswered");
  if (later.lastFrom === "youth") {
    const due = later.due ?? (app.dataset.due ? Number(app.dataset.due) : null);
    if (due === null) return t("laterPromise");
    return fmt(t("laterDue"), { when: dueWords(due, now(), pageWords()) });
  }
  return fmt(t("laterNew"), { promise: t("laterPromise") });
}

function render() {
  const button = $("later");
  if (button) button.hidden = !(later.current === "waiting" || later.current === "active");
  // "You can close the page, the answer comes here" while one is owed, not once it has come.
  $("later-note").hidden = !later.on || later.lastFrom === "nurse";
  // The offer to write was for before the conversation: from now on the conversation says it.
  const offer = document.querySelector(".later-offer");
  if (offer) offer.hidden = true;
  if (later.on) ctx.setStatus(statusText());
}
