// "Send to journal" for ID-porten-verified threads: the note is sealed here, in the browser, to
// the journal gateway's key (docs/epj.md); the dashboard shows each note's receipt status.
import * as e2e from "../e2e/index.js";
import { t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
export const JOURNAL_RANK = { sending: -1, queued: 0, sent: 1, accepted: 2, rejected: 2, receipt_invalid: 2, dead: 2 };
const JOURNAL_MAX_CHARS = 20000; // identity_bridge/epj/sealed.py MAX_TEXT_CHARS
const pad = (n) => String(n).padStart(2, "0");
export function localDate(d) { return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; }
export function fmtTime(ts) {
  if (!ts) return "";
  const d = new Date(ts * 1000);
  return `${localDate(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function journalable(c, cfg) {
  return Boolean(cfg && c.verified && cfg.services.includes(c.service) && c.mine !== false);
}

export function renderPicked(c) {
  $("journal-picked").textContent = `${t("picked")}: ${c.picked.size}`;
}

export function renderJournal(c, cfg) {
  const on = journalable(c, cfg);
  $("journal").hidden = !on;
  const ul = $("journal-log");
  ul.replaceChildren();
  if (!on && !c.journal.size) return;
  renderPicked(c);
  for (const [msgId, j] of c.journal) {
    const li = document.createElement("li");
    li.className = j.status;
    li.dataset.msgId = msgId;
    const key = "journal" + j.status.split("_").map((w) => w[0].toUpperCase() + w.slice(1)).join("");
    li.textContent = `${t("journalNote")} ${fmtTime(j.at)}: ${t(key)}` + (j.text ? ` – ${j.text}` : "");
    ul.append(li);
  }
}

/** The note sealed to the gateway, or null when it is too long. */
export function sealNote(cid, c, summary, nurseName, cfg) {
  const picked = [...c.picked].sort((a, b) => a - b).map((i) => c.messages[i]).filter((m) => m && m.ok);
  // The record is written in Norwegian whatever language the dashboard shows.
  const lines = picked.map((m) => `[${fmtTime(m.ts)}] ${m.who}: ${m.text}`);
  const text = summary + (lines.length ? "\n\nUtdrag fra samtalen i helseprat:\n" + lines.join("\n") : "");
  if (text.length > JOURNAL_MAX_CHARS) return null;
  const words = nurseName.trim().split(/\s+/).filter(Boolean);
  const family = words.length > 1 ? words.pop() : (words[0] || "-");
  const msgId = crypto.randomUUID();
  const note = JSON.stringify({
    v: 2, kind: "note", msg_id: msgId, conversation: cid,
    nurse: { given_name: words.join(" ") || family, family_name: family, hpr: null },
    subject: "Samtale i helseprat", text, note_date: localDate(new Date()),
  });
  const sealed = e2e.sealJournalNote(note, e2e.b64decode(cfg.gateway_key));
  return { msgId, sealed: e2e.b64encode(sealed) };
}
