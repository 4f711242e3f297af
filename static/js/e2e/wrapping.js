// Password wrapping of a nurse's device keys; mirrors chat/crypto/wrapping.py (layout there).
// Defaults: argon2id opslimit 2, memlimit 64 MiB (libsodium INTERACTIVE), ~0.3 s in Node 20.
import { boxKeypairFromSecret, signKeypair } from "./keys.js";
import { concat, Reader, u32, u8, utf8Encode } from "./encoding.js";
import { BadEnvelope, DecryptFailed, WrongPassword } from "./errors.js";
import { aeadDecrypt, aeadEncrypt, argon2id, NONCE_BYTES, randomBytes, TAG_BYTES } from "./primitives.js";

export const WRAP_VERSION = 1;
export const ALG_ARGON2ID13 = 2;
export const OPSLIMIT = 2;
export const MEMLIMIT = 64 * 1024 * 1024;
export const SALT_BYTES = 16;
export const MIN_OPSLIMIT = 1;
export const MAX_OPSLIMIT = 10;
export const MIN_MEMLIMIT = 8 * 1024;
export const MAX_MEMLIMIT = 256 * 1024 * 1024;
const HEADER_BYTES = 1 + 1 + 4 + 4 + SALT_BYTES;
export const WRAPPED_BYTES = HEADER_BYTES + NONCE_BYTES + 64 + TAG_BYTES;

/** NFC so the same password typed on different keyboards derives the same key. @param {string} pw */
function passwordBytes(pw) {
  return utf8Encode(pw.normalize("NFC"));
}

/** @param {number} opslimit @param {number} memlimit */
function checkLimits(opslimit, memlimit) {
  if (!(opslimit >= MIN_OPSLIMIT && opslimit <= MAX_OPSLIMIT)) throw new BadEnvelope("opslimit out of bounds");
  if (!(memlimit >= MIN_MEMLIMIT && memlimit <= MAX_MEMLIMIT) || memlimit % 1024) {
    throw new BadEnvelope("memlimit out of bounds");
  }
}

/**
 * @param {import("./keys.js").DeviceKeys} keys @param {string} password
 * @param {{salt?: Uint8Array, nonce?: Uint8Array, opslimit?: number, memlimit?: number}} [opts] salt/nonce: tests only
 * @returns {Uint8Array}
 */
export function wrapDeviceKeys(keys, password, opts = {}) {
  const opslimit = opts.opslimit ?? OPSLIMIT;
  const memlimit = opts.memlimit ?? MEMLIMIT;
  checkLimits(opslimit, memlimit);
  const salt = opts.salt ?? randomBytes(SALT_BYTES);
  const nonce = opts.nonce ?? randomBytes(NONCE_BYTES);
  if (salt.length !== SALT_BYTES || nonce.length !== NONCE_BYTES) throw new BadEnvelope("bad salt or nonce length");
  const header = concat(u8(WRAP_VERSION), u8(ALG_ARGON2ID13), u32(opslimit), u32(memlimit / 1024), salt);
  const key = argon2id(passwordBytes(password), salt, opslimit, memlimit);
  const ct = aeadEncrypt(concat(keys.box.secretKey, keys.sign.seed), header, nonce, key);
  return concat(header, nonce, ct);
}

/**
 * Throws WrongPassword (code e2e_wrong_password) on a wrong password.
 * @param {Uint8Array} blob @param {string} password @returns {import("./keys.js").DeviceKeys}
 */
export function unwrapDeviceKeys(blob, password) {
  if (blob.length !== WRAPPED_BYTES) throw new BadEnvelope("wrapped keys have the wrong length");
  const r = new Reader(blob);
  if (r.u8() !== WRAP_VERSION || r.u8() !== ALG_ARGON2ID13) throw new BadEnvelope("unknown wrap version or algorithm");
  const opslimit = r.u32();
  const memlimit = r.u32() * 1024;
  checkLimits(opslimit, memlimit);
  const salt = r.take(SALT_BYTES);
  const nonce = r.take(NONCE_BYTES);
  const ct = r.rest();
  const key = argon2id(passwordBytes(password), salt, opslimit, memlimit);
  let secret;
  try {
    secret = aeadDecrypt(ct, blob.slice(0, HEADER_BYTES), nonce, key);
  } catch (e) {
    if (e instanceof DecryptFailed) throw new WrongPassword("wrong password");
    throw e;
  }
  return Object.freeze({ box: boxKeypairFromSecret(secret.slice(0, 32)), sign: signKeypair(secret.slice(32)) });
}
