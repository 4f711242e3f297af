// The youth's Start button while the crypto module loads (e2e/lazy.js): the page paints and
// reacts at once, but a start needs keys, so until crypto is there the button says "Laster …"
// and is disabled (aria-disabled too), then it says "Start chat". A live region announces the
// change, so a screen-reader user who found the disabled button learns when it can be used.
// A closed service's button has no data-ready-label and stays disabled.

/** Run `fn` after the first frame has been painted (at once in a hidden tab: no frames there). */
export function afterPaint(fn) {
  if (document.visibilityState === "hidden") { setTimeout(fn, 0); return; }
  requestAnimationFrame(() => setTimeout(fn, 0));
}

/**
 * @param {Promise<unknown>} ready resolves when crypto is loaded
 * @param {HTMLButtonElement} button
 * @param {HTMLElement | null} status a role="status" element with data-t-ready / data-t-failed
 */
export function readyWhen(ready, button, status) {
  const label = button.dataset.readyLabel;
  ready.then(() => {
    performance.mark("helseprat:ready");
    if (label === undefined) return;
    delete button.dataset.readyLabel;
    button.textContent = label;
    button.disabled = false;
    button.removeAttribute("aria-disabled");
    if (status) status.textContent = status.dataset.tReady || "";
  }, () => {
    if (status) status.textContent = status.dataset.tFailed || "";
  });
}
