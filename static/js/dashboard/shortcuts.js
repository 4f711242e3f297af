// Keyboard shortcuts (listed in the page's "Hurtigtaster" dialog and in docs/dashboard.md):
// Alt+Shift+T claim the first in line, Alt+Shift+S go to the reply box, Alt+Shift+A close
// (after the confirmation), Alt+Shift+H this list; Ctrl+Enter sends from the reply box.
// None fires while the focus is in a field (typing must never claim or close anything), the
// one meant for a field (Ctrl+Enter in the reply box) aside, nor while a dialog is open.
const EDITABLE = "input, textarea, select, [contenteditable]:not([contenteditable=false])";
const $ = (id) => document.getElementById(id);

export function installShortcuts({ claimNext, reply, close, send }) {
  const dialog = $("shortcuts");
  const help = () => { if (!dialog.open) dialog.showModal(); $("shortcuts-close").focus(); };
  $("shortcuts-open").addEventListener("click", help);
  $("shortcuts-close").addEventListener("click", () => dialog.close());
  const byCode = { KeyT: claimNext, KeyS: reply, KeyA: close, KeyH: help };
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.isComposing) return;
    const target = e.target instanceof Element ? e.target : null;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && target && target.id === "message") {
      e.preventDefault();
      send();
      return;
    }
    if (!e.altKey || !e.shiftKey || e.ctrlKey || e.metaKey) return;
    if (target && target.closest(EDITABLE)) return;
    if (document.querySelector("dialog[open]")) return;
    const act = byCode[e.code]; // the key, not the character (Alt+Shift+T types "ˇ" on a Mac)
    if (!act) return;
    e.preventDefault();
    act();
  });
}
