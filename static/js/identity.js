// The consent page and "Mine samtaler": start an ID-porten login, finish it in this tab.
import { confirmSession, logout, startLogin, takeLoginMarker } from "./youth_identity.js";

const root = document.getElementById("identity");
const KEY = "helseprat.conversation";
const $ = (id) => document.getElementById(id);

// Quick exit: the same rule as the chat page (clear this tab; keep only a remembered chat).
function quickExit() {
  let remember = false;
  try { remember = JSON.parse(localStorage.getItem(KEY) || "null")?.remember === true; } catch { /* */ }
  try { sessionStorage.clear(); } catch { /* */ }
  if (!remember) { try { localStorage.removeItem(KEY); localStorage.removeItem("helseprat.pins"); } catch { /* */ } }
  location.replace($("quick-exit").dataset.url);
}
if ($("quick-exit")) {
  $("quick-exit").addEventListener("click", quickExit);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !e.repeat) quickExit(); });
}

function saved() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || localStorage.getItem(KEY) || "null"); } catch { return null; }
}

if (root.dataset.page === "consent") {
  $("consent-yes").addEventListener("click", async () => {
    $("consent-yes").disabled = true;
    const s = saved();
    const upgrade = s && s.token && !s.linked && s.conversation && s.service === root.dataset.service;
    try {
      await startLogin(upgrade ? "upgrade" : "login", s, root.dataset.lang);
    } catch (err) {
      $("consent-status").textContent = root.dataset.tError + (err && err.code ? " (" + err.code + ")" : "");
      $("consent-yes").disabled = false;
    }
  });
}

if (root.dataset.page === "mine" && $("confirming")) {
  const marker = takeLoginMarker();
  const fail = () => { $("confirming").textContent = root.dataset.tError; };
  if (!marker) fail();
  else confirmSession(marker).then(() => location.replace("/mine?lang=" + encodeURIComponent(root.dataset.lang)), fail);
}

const logoutForm = document.querySelector("form.logout-form");
if (logoutForm) {
  logoutForm.addEventListener("submit", (e) => {
    e.preventDefault();
    try { sessionStorage.removeItem(KEY); localStorage.removeItem(KEY); } catch { /* */ }
    logout(root.dataset.lang);
  });
}
