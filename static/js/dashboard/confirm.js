// One ds-dialog asks before an irreversible step (close, release, transfer). Cancel has the
// focus when it opens, so a double Enter does not confirm by accident.
const $ = (id) => document.getElementById(id);

/** Ask; resolves true only when the nurse chose the confirm button. */
export function confirmAction({ title, text, confirm, danger = false }) {
  const dialog = $("confirm");
  const yes = $("confirm-yes");
  const no = $("confirm-no");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  yes.textContent = confirm;
  if (danger) yes.dataset.color = "danger"; else delete yes.dataset.color;
  const back = document.activeElement;
  return new Promise((resolve) => {
    const done = (ok) => {
      yes.onclick = no.onclick = dialog.oncancel = null;
      if (dialog.open) dialog.close();
      if (back && back.isConnected && typeof back.focus === "function") back.focus();
      resolve(ok);
    };
    yes.onclick = () => done(true);
    no.onclick = () => done(false);
    dialog.oncancel = (e) => { e.preventDefault(); done(false); };
    dialog.showModal();
    no.focus();
  });
}
