// "Svar senere": conversations that wait for a nurse's answer while no one is live on them
// (written when the service was closed, no nurse on duty, or the youth left and asked to be
// answered later). Fed by `later_snapshot` per service; shown as one list, oldest owed first,
// each card with the service, how long ago the youth wrote and the time left to the reply
// target (past it: said in words, not by colour alone).
import { t, fmt } from "./i18n.js";
import { cardTags, claimButton } from "./queue.js";

const $ = (id) => document.getElementById(id);
const now = () => Date.now() / 1000;

/** "3 t 20 min", "45 min", "2 d 4 t", "under 1 min": a span of seconds in the nurse's language,
 *  at most two units, rounded down (a promise is never shown as more time than there is). */
export function fmtSpan(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const mins = Math.floor((s % 3600) / 60);
  const unit = (n, key) => `${n} ${t(key)}`;
  if (days) return hours ? `${unit(days, "unitDay")} ${unit(hours, "unitHour")}` : unit(days, "unitDay");
  if (hours) return mins ? `${unit(hours, "unitHour")} ${unit(mins, "unitMin")}` : unit(hours, "unitHour");
  return mins ? unit(mins, "unitMin") : t("underAMinute");
}

/** The youth's wait: "Skrev for 2 t 5 min siden". */
export function wroteText(owed) {
  return fmt(t("laterWrote"), { ago: fmtSpan(now() - owed) });
}

/** The reply target: "Svar innen 3 t 20 min", past it "Over fristen med 20 min"; no promise
 *  (a service that never opens) leaves the line empty. */
export function dueText(due) {
  if (due === null || due === undefined) return "";
  const left = due - now();
  return left >= 0 ? fmt(t("laterDue"), { left: fmtSpan(left) }) : fmt(t("laterOverdue"), { late: fmtSpan(-left) });
}

function fillTimes(li) {
  const owed = +li.dataset.owed;
  const due = li.dataset.due === "" ? null : +li.dataset.due;
  li.querySelector(".wrote").textContent = wroteText(owed);
  const line = li.querySelector(".due");
  line.textContent = dueText(due);
  const over = due !== null && due < now();
  li.classList.toggle("overdue", over);
}

/** One conversation owed an answer. ``ctx``: {flag, serviceName, onClaim}. */
export function laterCard(item, ctx) {
  const li = document.createElement("li");
  li.className = "queue-item later-item";
  li.dataset.conversation = item.conversation;
  li.dataset.service = item.service;
  li.dataset.owed = String(item.owed);
  li.dataset.due = item.due === null || item.due === undefined ? "" : String(item.due);
  const tags = cardTags(item, ctx);
  const wrote = document.createElement("p");
  wrote.className = "wrote";
  const due = document.createElement("p");
  due.className = "due";
  li.append(tags, wrote, due, claimButton(item.conversation, ctx.onClaim));
  fillTimes(li);
  return li;
}

let lastSaid = null; // the count a screen reader last heard of (null: none yet)

/** The whole list from every service's items, oldest owed first. ``ctx(item)`` gives a card's
 *  context. Says the count in the heading, and (politely, only when it changed once every
 *  service has sent its list, ``settled``) to a screen reader. */
export function renderLater(lists, ctx, settled) {
  const items = [];
  for (const [service, list] of lists) for (const it of list) items.push({ ...it, service });
  items.sort((a, b) => a.owed - b.owed || (a.conversation < b.conversation ? -1 : 1));
  const ul = $("later");
  ul.replaceChildren();
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = t("laterEmpty");
    ul.append(li);
  }
  for (const item of items) ul.append(laterCard(item, ctx(item)));
  const n = String(items.length);
  for (const el of document.querySelectorAll("[data-later-count]")) el.textContent = n;
  $("later-jump").hidden = !items.length;
  // The lists every service sends on loading are not news; a change after that is said once.
  if (settled) {
    if (lastSaid !== null && lastSaid !== n) $("later-live").textContent = fmt(t("laterLive"), { n });
    lastSaid = n;
  }
  return items;
}

/** Refresh the times shown (every few seconds). */
export function tickLater() {
  for (const li of document.querySelectorAll("#later .later-item")) fillTimes(li);
}
