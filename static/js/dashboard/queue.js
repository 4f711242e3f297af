// The queue's cards: who waits, where, for how long, whether they are connected, whether they
// have been here before, whether they said it is urgent, and the topic they chose (if any).
import { t, label } from "./i18n.js";

export function fmtWait(since) {
  const s = Math.max(0, Math.floor(Date.now() / 1000 - since));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min`;
}

export function waitText(since, target, online) {
  const over = Date.now() / 1000 - since > target;
  return `${t("waitingSince")} ${fmtWait(since)}` + (over ? ` (${t("overTarget")})` : "")
    + ` · ${online ? t("online") : t("offline")}`;
}

export function claimButton(cid, onClaim) {
  const btn = document.createElement("button");
  btn.type = "button";
  btn.className = "ds-button claim";
  btn.dataset.variant = "primary";
  btn.dataset.conversation = cid;
  btn.textContent = t("claim");
  btn.addEventListener("click", () => onClaim(cid));
  return btn;
}

export function tag(text, cls, color) {
  const el = document.createElement("span");
  el.className = "ds-tag " + cls;
  if (color) el.dataset.color = color;
  el.textContent = text;
  return el;
}

export function flagTag(kind) {
  return tag(t(kind), "flag flag-" + kind, kind === "acute" ? "danger" : "warning");
}

/** A card's first line: its flag, whether the youth has been here before, and the service. */
export function cardTags(item, ctx) {
  const tags = document.createElement("div");
  tags.className = "tags";
  if (ctx.flag) tags.append(flagTag(ctx.flag));
  if (item.urgent) tags.append(tag(t("urgent"), "urgent", "danger"));
  if (item.returning) {
    const r = tag(label("returning", item.returning), "returning", "info");
    r.dataset.returning = item.returning;
    tags.append(r);
  }
  const svc = document.createElement("span");
  svc.className = "svc";
  svc.textContent = ctx.serviceName;
  tags.append(svc);
  return tags;
}

/** One waiting youth. ``ctx``: {flag, serviceName, target, onClaim}. */
export function queueCard(item, ctx) {
  const li = document.createElement("li");
  li.className = "queue-item";
  li.dataset.conversation = item.conversation;
  const tags = cardTags(item, ctx);
  // The topic the youth chose, in the nurse's language (empty, and hidden, when none).
  const topic = document.createElement("p");
  topic.className = "topic";
  topic.dataset.slot = "topic";
  if (item.topic) {
    topic.dataset.topic = item.topic;
    topic.textContent = `${t("topic")}: ${label("topic", item.topic)}`;
  }
  const since = document.createElement("p");
  since.className = "since";
  since.dataset.since = item.since;
  since.dataset.target = ctx.target;
  since.dataset.online = item.online ? "1" : "";
  since.textContent = waitText(item.since, ctx.target, item.online);
  li.classList.toggle("over", Date.now() / 1000 - item.since > ctx.target);
  li.append(tags, topic, since, claimButton(item.conversation, ctx.onClaim));
  return li;
}

/** Refresh the waiting times shown (every few seconds). */
export function tickWaits() {
  for (const el of document.querySelectorAll(".queue .since")) {
    el.textContent = waitText(+el.dataset.since, +el.dataset.target, Boolean(el.dataset.online));
    el.closest("li")?.classList.toggle("over", Date.now() / 1000 - +el.dataset.since > +el.dataset.target);
  }
}
