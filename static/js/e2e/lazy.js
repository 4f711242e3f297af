// The crypto module (libsodium and everything over it), fetched only after the first paint so
// the youth's page shows and reacts before ~100 KB of WebAssembly has arrived.
// `e2e` is a live ES-module binding: null until loadCrypto() has finished, then the module
// namespace of ./index.js. Code that runs only after the page is ready (a tap on a button that
// is disabled until then, frames on a socket opened after it) may use it synchronously.
/** @type {typeof import("./index.js") | null} */
export let e2e = null;

/** @type {Promise<typeof import("./index.js")> | null} */
let loading = null;

/** Start loading (once) and resolve with the module; later calls share the first promise. */
export function loadCrypto() {
  loading ??= import("./index.js").then((m) => provide(m), (err) => {
    loading = null; // a failed fetch (offline for a moment) may be tried again
    throw err;
  });
  return loading;
}

/** For pages that import ./index.js statically anyway (the nurse's): see e2e/eager.js. */
export function provide(m) {
  e2e = m;
  loading ??= Promise.resolve(m);
  return m;
}
