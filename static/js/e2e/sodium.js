// The one place that loads libsodium. Top-level await: every other module can call sodium
// synchronously, keeping the API parallel to the Python one (chat/crypto).
import _sodium from "libsodium-wrappers-sumo";

await _sodium.ready;

/** @type {typeof _sodium} */
export const sodium = _sodium;
