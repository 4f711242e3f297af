// Thin wrappers over libsodium, identical in behaviour to chat/crypto/primitives.py.
// `seal` with an injected ephemeral seed spells out crypto_box_seal so vectors are fixed.
import { sodium } from "./sodium.js";
import { concat } from "./encoding.js";
import { BadEnvelope, BadSignature, DecryptFailed } from "./errors.js";

export const KEY_BYTES = 32;
export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;
export const SIG_BYTES = 64;
export const SEAL_OVERHEAD = 48;

/** @param {number} n @returns {Uint8Array} */
export function randomBytes(n) {
  return sodium.randombytes_buf(n);
}

/** @param {Uint8Array} data @param {number} [size] @returns {Uint8Array} */
export function blake2b(data, size = 32) {
  return sodium.crypto_generichash(size, data, null);
}

/** @param {Uint8Array} message @param {Uint8Array} secretKey 64-byte libsodium form */
export function signDetached(message, secretKey) {
  return sodium.crypto_sign_detached(message, secretKey);
}

/** Throws BadSignature. @param {Uint8Array} signature @param {Uint8Array} message @param {Uint8Array} publicKey */
export function verifyDetached(signature, message, publicKey) {
  if (signature.length !== SIG_BYTES || publicKey.length !== 32) {
    throw new BadSignature("bad signature or key length");
  }
  let ok = false;
  try {
    ok = sodium.crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    ok = false;
  }
  if (!ok) throw new BadSignature("signature does not verify");
}

/** @param {Uint8Array} plaintext @param {Uint8Array} ad @param {Uint8Array} nonce @param {Uint8Array} key */
export function aeadEncrypt(plaintext, ad, nonce, key) {
  return sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key);
}

/** Throws DecryptFailed. @param {Uint8Array} ciphertext @param {Uint8Array} ad @param {Uint8Array} nonce @param {Uint8Array} key */
export function aeadDecrypt(ciphertext, ad, nonce, key) {
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
  } catch {
    throw new DecryptFailed("AEAD authentication failed");
  }
}

/**
 * crypto_box_seal; with `ephSeed` (32 bytes, tests only) the output is deterministic.
 * @param {Uint8Array} message @param {Uint8Array} recipientPk @param {Uint8Array} [ephSeed]
 */
export function seal(message, recipientPk, ephSeed) {
  if (recipientPk.length !== KEY_BYTES) throw new BadEnvelope("recipient key must be 32 bytes");
  if (ephSeed === undefined || ephSeed === null) return sodium.crypto_box_seal(message, recipientPk);
  const eph = sodium.crypto_box_seed_keypair(ephSeed);
  const nonce = blake2b(concat(eph.publicKey, recipientPk), 24);
  return concat(eph.publicKey, sodium.crypto_box_easy(message, nonce, recipientPk, eph.privateKey));
}

/** Throws DecryptFailed. @param {Uint8Array} sealed @param {Uint8Array} publicKey @param {Uint8Array} secretKey */
export function sealOpen(sealed, publicKey, secretKey) {
  if (sealed.length < SEAL_OVERHEAD) throw new DecryptFailed("sealed box too short");
  try {
    return sodium.crypto_box_seal_open(sealed, publicKey, secretKey);
  } catch {
    throw new DecryptFailed("sealed box did not open");
  }
}

/** @param {Uint8Array} secretKey */
export function boxPublicFromSecret(secretKey) {
  return sodium.crypto_scalarmult_base(secretKey);
}

/** @param {Uint8Array} seed @returns {{publicKey: Uint8Array, secretKey: Uint8Array}} */
export function boxKeypairFromSeed(seed) {
  const kp = sodium.crypto_box_seed_keypair(seed);
  return { publicKey: kp.publicKey, secretKey: kp.privateKey };
}

/** @param {Uint8Array} seed @returns {{publicKey: Uint8Array, secretKey: Uint8Array}} */
export function signKeypairFromSeed(seed) {
  const kp = sodium.crypto_sign_seed_keypair(seed);
  return { publicKey: kp.publicKey, secretKey: kp.privateKey };
}

/** ISO/IEC 7816-4 padding to exactly `size` bytes. @param {Uint8Array} data @param {number} size */
export function pad(data, size) {
  return sodium.pad(data, size);
}

/** Throws DecryptFailed. @param {Uint8Array} data @param {number} size */
export function unpad(data, size) {
  try {
    return sodium.unpad(data, size);
  } catch {
    throw new DecryptFailed("bad padding");
  }
}

/** @param {Uint8Array} password @param {Uint8Array} salt @param {number} opslimit @param {number} memlimit */
export function argon2id(password, salt, opslimit, memlimit) {
  return sodium.crypto_pwhash(
    KEY_BYTES, password, salt, opslimit, memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13,
  );
}
