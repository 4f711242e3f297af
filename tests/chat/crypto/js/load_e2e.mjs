// Loads static/js/e2e for Node: the module as the browser bundles get it, on libsodium's sumo
// build (the one static/js/e2e/sodium.js names; the nurse's bundle has it too).
export const e2e = await import("../../../../static/js/e2e/index.js");
