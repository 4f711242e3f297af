// Safety codes and trust-on-first-use pinning of the team root; mirrors chat/crypto/safety.py.
import { blake2b } from "./primitives.js";
import { concat, toHex, utf8Encode } from "./encoding.js";
import { BadEnvelope } from "./errors.js";

const SAFETY_DOMAIN = utf8Encode("helseprat/safety-code/v1");
const FINGERPRINT_DOMAIN = utf8Encode("helseprat/root-fingerprint/v1");

/** @param {Uint8Array} k */
function key32(k) {
  if (!(k instanceof Uint8Array) || k.length !== 32) throw new BadEnvelope("public key must be 32 bytes");
  return k;
}

/**
 * "dddd dddd dddd": first 8 bytes of BLAKE2b-256(domain ‖ root ‖ youth) mod 10**12.
 * @param {Uint8Array} teamRootPublicKey @param {Uint8Array} youthSignPublicKey @returns {string}
 */
export function safetyCode(teamRootPublicKey, youthSignPublicKey) {
  const h = blake2b(concat(SAFETY_DOMAIN, key32(teamRootPublicKey), key32(youthSignPublicKey)));
  const n = new DataView(h.buffer, h.byteOffset, 8).getBigUint64(0) % 10n ** 12n;
  const digits = n.toString().padStart(12, "0");
  return `${digits.slice(0, 4)} ${digits.slice(4, 8)} ${digits.slice(8, 12)}`;
}

/** @param {Uint8Array} teamRootPublicKey @returns {string} lower-case hex, 32 chars */
export function rootFingerprint(teamRootPublicKey) {
  return toHex(blake2b(concat(FINGERPRINT_DOMAIN, key32(teamRootPublicKey))).slice(0, 16));
}

/** @typedef {{status: "first_use" | "match" | "changed", fingerprint: string}} PinCheck */

/**
 * Compare a stored fingerprint (null if none) with the root key the server now presents.
 * @param {string | null | undefined} pinned @param {Uint8Array} teamRootPublicKey @returns {PinCheck}
 */
export function checkRootPin(pinned, teamRootPublicKey) {
  const fingerprint = rootFingerprint(teamRootPublicKey);
  if (pinned === null || pinned === undefined || pinned === "") return Object.freeze({ status: "first_use", fingerprint });
  return Object.freeze({ status: pinned === fingerprint ? "match" : "changed", fingerprint });
}
