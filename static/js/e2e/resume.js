// Resume codes that carry the conversation key to a new device (mirrors chat/crypto/resume.py).
import { blake2b, aeadEncrypt, aeadDecrypt, randomBytes, NONCE_BYTES, TAG_BYTES } from "./primitives.js";
import { concat, toHex, utf8Encode } from "./encoding.js";
import { BadEnvelope } from "./errors.js";

const AUTH_DOMAIN = utf8Encode("helseprat/resume-auth/v1\0");
const WRAP_DOMAIN = utf8Encode("helseprat/resume-wrap/v1\0");
const BACKUP_AD = utf8Encode("helseprat/resume-backup/v1");
export const BACKUP_BYTES = NONCE_BYTES + 64 + TAG_BYTES;

/** @param {string} secretText the 8 secret words joined by single spaces */
export function resumeAuth(secretText) {
  return toHex(blake2b(concat(AUTH_DOMAIN, utf8Encode(secretText))));
}

export function resumeWrapKey(secretText) {
  return blake2b(concat(WRAP_DOMAIN, utf8Encode(secretText)));
}

export function sealBackup(wrapKey, ck, signSeed, nonce) {
  const n = nonce || randomBytes(NONCE_BYTES);
  return concat(n, aeadEncrypt(concat(ck, signSeed), BACKUP_AD, n, wrapKey));
}

export function openBackup(wrapKey, blob) {
  if (blob.length !== BACKUP_BYTES) throw new BadEnvelope("resume backup has the wrong length");
  const plain = aeadDecrypt(blob.subarray(NONCE_BYTES), BACKUP_AD, blob.subarray(0, NONCE_BYTES), wrapKey);
  return [plain.subarray(0, 32), plain.subarray(32)];
}
