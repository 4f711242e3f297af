// The one place that loads libsodium. Top-level await: every other module can call sodium
// synchronously, keeping the API parallel to the Python one (chat/crypto).
// The sumo build has everything (the nurse's argon2id key wrapping too); the youth's bundle maps
// this import to the smaller standard build (static/build.mjs), which has all the youth calls.
import _sodium from "libsodium-wrappers-sumo";

await _sodium.ready;

/** @type {typeof _sodium} */
export const sodium = _sodium;
