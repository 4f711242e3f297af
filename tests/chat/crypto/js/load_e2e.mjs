// Loads static/js/e2e for Node. Registers the resolve hook in sodium_loader.mjs first (a
// workaround for libsodium-wrappers-sumo 0.7.16's broken ESM entry), then imports the module
// dynamically: a static import would be linked before the hook exists.
import { register } from "node:module";

register("./sodium_loader.mjs", import.meta.url);

export const e2e = await import("../../../../static/js/e2e/index.js");
