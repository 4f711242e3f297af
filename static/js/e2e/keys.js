// Key pairs and key ids; mirrors chat/crypto/keys.py.
import { blake2b, boxKeypairFromSeed, boxPublicFromSecret, randomBytes, signKeypairFromSeed } from "./primitives.js";
import { concat, utf8Encode } from "./encoding.js";
import { BadEnvelope } from "./errors.js";

export const KEY_ID_BYTES = 8;
const KEY_ID_DOMAIN = utf8Encode("helseprat/key-id/v1");

/** @typedef {{publicKey: Uint8Array, secretKey: Uint8Array}} BoxKeyPair X25519 */
/** @typedef {{publicKey: Uint8Array, seed: Uint8Array, secretKey: Uint8Array}} SignKeyPair Ed25519; secretKey = seed ‖ publicKey */
/** @typedef {{box: BoxKeyPair, sign: SignKeyPair}} DeviceKeys */

/** @param {Uint8Array} [seed] */
function seed32(seed) {
  if (seed === undefined || seed === null) return randomBytes(32);
  if (seed.length !== 32) throw new BadEnvelope("seed must be 32 bytes");
  return seed;
}

/** @param {Uint8Array} [seed] tests only @returns {BoxKeyPair} */
export function boxKeypair(seed) {
  return Object.freeze(boxKeypairFromSeed(seed32(seed)));
}

/** @param {Uint8Array} secretKey @returns {BoxKeyPair} */
export function boxKeypairFromSecret(secretKey) {
  if (secretKey.length !== 32) throw new BadEnvelope("X25519 secret key must be 32 bytes");
  return Object.freeze({ publicKey: boxPublicFromSecret(secretKey), secretKey });
}

/** @param {Uint8Array} [seed] tests only @returns {SignKeyPair} */
export function signKeypair(seed) {
  const s = seed32(seed);
  const kp = signKeypairFromSeed(s);
  return Object.freeze({ publicKey: kp.publicKey, seed: s, secretKey: kp.secretKey });
}

/** @param {Uint8Array} [boxSeed] @param {Uint8Array} [signSeed] @returns {DeviceKeys} */
export function deviceKeys(boxSeed, signSeed) {
  return Object.freeze({ box: boxKeypair(boxSeed), sign: signKeypair(signSeed) });
}

/** 8-byte sender id: BLAKE2b-256(domain ‖ Ed25519 public key)[:8]. @param {Uint8Array} signPublicKey */
export function keyId(signPublicKey) {
  if (signPublicKey.length !== 32) throw new BadEnvelope("Ed25519 public key must be 32 bytes");
  return blake2b(concat(KEY_ID_DOMAIN, signPublicKey), 32).slice(0, KEY_ID_BYTES);
}

/** A fresh 32-byte conversation key CK. @param {Uint8Array} [seed] tests only */
export function conversationKey(seed) {
  return seed32(seed);
}
