// The message envelope; mirrors chat/crypto/envelope.py (byte layout documented there).
import { keyId, KEY_ID_BYTES } from "./keys.js";
import { b64decode, b64encode, bytesEqual, concat, Reader, text, u32, u64, u8, utf8Encode } from "./encoding.js";
import { BadEnvelope, DecryptFailed, TooLarge } from "./errors.js";
import {
  aeadDecrypt, aeadEncrypt, NONCE_BYTES, pad, randomBytes, SIG_BYTES, signDetached, TAG_BYTES, unpad,
  verifyDetached,
} from "./primitives.js";

export const ENVELOPE_VERSION = 1;
export const PAD_BUCKETS = Object.freeze([256, 1024, 4096, 16384]);
export const MAX_PLAINTEXT = PAD_BUCKETS[PAD_BUCKETS.length - 1] - 1;
export const SIG_DOMAIN = utf8Encode("helseprat/envelope-sig/v1");
export const HEADER_BYTES = 1 + 4 + KEY_ID_BYTES + 8;
export const OVERHEAD = HEADER_BYTES + NONCE_BYTES + TAG_BYTES + SIG_BYTES;
export const MAX_BODY_CHARS = 64 * 1024;

/**
 * @typedef {{version: number, epoch: number, senderKeyId: Uint8Array, sequence: number,
 *   nonce: Uint8Array, ciphertext: Uint8Array, signature: Uint8Array}} Envelope
 */

/** @param {{version: number, epoch: number, senderKeyId: Uint8Array, sequence: number}} env */
export function envelopeHeader(env) {
  return concat(u8(env.version), u32(env.epoch), env.senderKeyId, u64(env.sequence));
}

/** @param {number} length */
export function bucketFor(length) {
  for (const size of PAD_BUCKETS) if (length < size) return size;
  throw new TooLarge(`plaintext over ${MAX_PLAINTEXT} bytes`);
}

/** @param {Uint8Array} header @param {string} conversationId */
export function associatedData(header, conversationId) {
  return concat(header, text(conversationId));
}

/** @param {Envelope} env @param {string} conversationId */
function signedPart(env, conversationId) {
  return concat(SIG_DOMAIN, associatedData(envelopeHeader(env), conversationId), env.nonce, env.ciphertext);
}

/** @param {Envelope} env @returns {Uint8Array} */
export function encodeEnvelope(env) {
  return concat(envelopeHeader(env), env.nonce, env.ciphertext, env.signature);
}

/** @param {Uint8Array} data @returns {Envelope} */
export function decodeEnvelope(data) {
  const r = new Reader(data);
  const version = r.u8();
  if (version !== ENVELOPE_VERSION) throw new BadEnvelope("unknown envelope version");
  const epoch = r.u32();
  const senderKeyId = r.take(KEY_ID_BYTES);
  const sequence = r.u64();
  const nonce = r.take(NONCE_BYTES);
  const ctLen = r.remaining() - SIG_BYTES;
  if (!PAD_BUCKETS.includes(ctLen - TAG_BYTES)) throw new BadEnvelope("ciphertext length is not a padding bucket");
  const ciphertext = r.take(ctLen);
  const signature = r.take(SIG_BYTES);
  r.end();
  return Object.freeze({ version, epoch, senderKeyId, sequence, nonce, ciphertext, signature });
}

/** @param {Uint8Array} data @returns {string} */
export function envelopeToBody(data) {
  return b64encode(data);
}

/** @param {string} body @returns {Uint8Array} */
export function bodyToEnvelope(body) {
  if (typeof body !== "string" || body.length > MAX_BODY_CHARS) throw new BadEnvelope("body too large");
  return b64decode(body);
}

/**
 * Pad, encrypt and sign; returns envelope bytes.
 * @param {Uint8Array} ck @param {string} conversationId @param {number} epoch
 * @param {import("./keys.js").SignKeyPair} sender @param {number} sequence
 * @param {Uint8Array} plaintext @param {Uint8Array} [nonce] tests only
 * @returns {Uint8Array}
 */
export function encryptEnvelope(ck, conversationId, epoch, sender, sequence, plaintext, nonce) {
  const n = nonce ?? randomBytes(NONCE_BYTES);
  if (n.length !== NONCE_BYTES || ck.length !== 32) throw new BadEnvelope("bad nonce or key length");
  const padded = pad(plaintext, bucketFor(plaintext.length));
  const base = { version: ENVELOPE_VERSION, epoch, senderKeyId: keyId(sender.publicKey), sequence, nonce: n };
  const ciphertext = aeadEncrypt(padded, associatedData(envelopeHeader(base), conversationId), n, ck);
  const unsigned = { ...base, ciphertext, signature: new Uint8Array(0) };
  const signature = signDetached(signedPart(unsigned, conversationId), sender.secretKey);
  return encodeEnvelope({ ...unsigned, signature });
}

/** Throws BadSignature. @param {Envelope} env @param {string} conversationId @param {Uint8Array} senderPublicKey */
export function verifyEnvelope(env, conversationId, senderPublicKey) {
  if (!bytesEqual(keyId(senderPublicKey), env.senderKeyId)) throw new BadEnvelope("sender key does not match the key id");
  verifyDetached(env.signature, signedPart(env, conversationId), senderPublicKey);
}

/** Decrypt and unpad a verified envelope. @param {Envelope} env @param {Uint8Array} ck @param {string} conversationId */
export function decryptEnvelope(env, ck, conversationId) {
  const padded = aeadDecrypt(env.ciphertext, associatedData(envelopeHeader(env), conversationId), env.nonce, ck);
  try {
    return unpad(padded, padded.length);
  } catch {
    throw new DecryptFailed("bad padding");
  }
}
