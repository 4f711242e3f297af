// The consent page and "Mine samtaler": start an ID-porten login, finish it in this tab.
import { confirmSession, logout, startLogin, takeLoginMarker } from "./youth_identity.js";
import "./exit.js"; // quick exit and history: the same rules as every youth page

const root = document.getElementById("identity");
const KEY = "helseprat.conversation";
const $ = (id) => document.getElementById(id);

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
