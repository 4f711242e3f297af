// Leaving without a trace, on every youth page: the quick-exit button (and Escape) forgets the
// conversation on this device, always, and replaces this page with a neutral one; moving
// between helseprat's youth pages replaces the current history entry instead of adding one,
// so Back from the neutral page leads to wherever the youth was before helseprat.

// Everything a youth page keeps in this browser ("remember" included: on a shared phone the
// next person must not find the chat).
const YOUTH_KEYS = ["helseprat.conversation", "helseprat.pins", "helseprat.device", "helseprat.login",
                    "helseprat.push", "helseprat.capability"];
const hooks = [];
let left = false;

/** Run ``fn`` first when the youth leaves (e.g. close the socket). */
export function beforeQuickExit(fn) { hooks.push(fn); }

/** True once the youth has left: nothing may be written to storage after it was cleared. */
export function hasLeft() { return left; }

export function forgetEverything() {
  try { sessionStorage.clear(); } catch { /* storage may be blocked */ }
  for (const k of YOUTH_KEYS) { try { localStorage.removeItem(k); } catch { /* */ } }
}

/** Web Push off in this browser, without waiting: the service worker (static/js/sw.js) drops
 * its subscription and what it remembers, and unregisters itself; the page leaves at once. */
function forgetPush() {
  try {
    const sw = navigator.serviceWorker;
    if (!sw) return;
    if (sw.controller) { sw.controller.postMessage({ type: "forget" }); return; }
    sw.getRegistration("/").then((reg) => { if (reg && reg.active) reg.active.postMessage({ type: "forget" }); },
                                 () => {});
  } catch { /* leave anyway */ }
}

export function quickExit() {
  left = true;
  for (const fn of hooks) { try { fn(); } catch { /* leave anyway */ } }
  forgetEverything();
  forgetPush();
  const button = document.getElementById("quick-exit");
  location.replace((button && (button.dataset.url || button.getAttribute("href"))) || "https://www.yr.no/");
}

function sameSiteLink(a) {
  if (!a || a.target || a.hasAttribute("download")) return false;
  const url = new URL(a.href, location.href);
  return url.origin === location.origin && (url.protocol === "http:" || url.protocol === "https:");
}

function install() {
  const button = document.getElementById("quick-exit");
  if (button) {
    button.addEventListener("click", (e) => { e.preventDefault(); quickExit(); });
    document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !e.repeat) quickExit(); });
  }
  // Links between our own pages replace the entry: Back never returns to a helseprat page.
  document.addEventListener("click", (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target instanceof Element ? e.target.closest("a[href]") : null;
    if (!sameSiteLink(a) || a.id === "quick-exit") return;
    const url = new URL(a.href, location.href);
    if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
    e.preventDefault();
    location.replace(url.href);
  });
}
install();
