// Deterministic byte encoding, identical to chat/crypto/encoding.py: big-endian fixed-width
// integers, u16-length-prefixed UTF-8 strings, strict standard base64.
import { BadEnvelope } from "./errors.js";

export const MAX_SAFE_INT = Number.MAX_SAFE_INTEGER; // 2**53 - 1, the u64 cap on both sides
export const MAX_TEXT_BYTES = 255;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** @param {...Uint8Array} parts @returns {Uint8Array} */
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** @param {number} n */
function checkInt(n, max) {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new BadEnvelope("integer out of range");
}

/** @param {number} n @returns {Uint8Array} */
export function u8(n) {
  checkInt(n, 0xff);
  return Uint8Array.of(n);
}

/** @param {number} n @returns {Uint8Array} */
export function u16(n) {
  checkInt(n, 0xffff);
  return Uint8Array.of(n >>> 8, n & 0xff);
}

/** @param {number} n @returns {Uint8Array} */
export function u32(n) {
  checkInt(n, 0xffffffff);
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/** @param {number} n @returns {Uint8Array} */
export function u64(n) {
  checkInt(n, MAX_SAFE_INT);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

/** @param {string} s @returns {Uint8Array} u16 length ‖ UTF-8, 1..255 bytes */
export function text(s) {
  const raw = utf8.encode(s);
  if (raw.length < 1 || raw.length > MAX_TEXT_BYTES) {
    throw new BadEnvelope("text field must be 1..255 UTF-8 bytes");
  }
  return concat(u16(raw.length), raw);
}

/** @param {string} s @returns {Uint8Array} */
export function utf8Encode(s) {
  return utf8.encode(s);
}

/** @param {Uint8Array} b @returns {string} throws BadEnvelope-compatible TypeError upstream */
export function utf8Decode(b) {
  return utf8Strict.decode(b);
}

/** Cursor over bytes; short reads and trailing bytes are BadEnvelope. */
export class Reader {
  /** @param {Uint8Array} data */
  constructor(data) {
    this.data = data;
    this.pos = 0;
  }

  /** @param {number} n @returns {Uint8Array} */
  take(n) {
    if (n < 0 || this.pos + n > this.data.length) throw new BadEnvelope("truncated");
    const out = this.data.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u8() {
    return this.take(1)[0];
  }

  u16() {
    const b = this.take(2);
    return (b[0] << 8) | b[1];
  }

  u32() {
    return new DataView(this.take(4).buffer).getUint32(0);
  }

  u64() {
    const n = new DataView(this.take(8).buffer).getBigUint64(0);
    if (n > BigInt(MAX_SAFE_INT)) throw new BadEnvelope("u64 out of range");
    return Number(n);
  }

  text() {
    const n = this.u16();
    if (n < 1 || n > MAX_TEXT_BYTES) throw new BadEnvelope("bad text length");
    try {
      return utf8Strict.decode(this.take(n));
    } catch {
      throw new BadEnvelope("text is not UTF-8");
    }
  }

  /** @param {Uint8Array} prefix */
  expect(prefix) {
    if (!bytesEqual(this.take(prefix.length), prefix)) throw new BadEnvelope("wrong domain prefix");
  }

  rest() {
    return this.take(this.data.length - this.pos);
  }

  remaining() {
    return this.data.length - this.pos;
  }

  end() {
    if (this.pos !== this.data.length) throw new BadEnvelope("trailing bytes");
  }
}

/** Not constant-time: for public values only (prefixes, key ids, fingerprints).
 * @param {Uint8Array} a @param {Uint8Array} b */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 with padding, no newlines. @param {Uint8Array} data @returns {string} */
export function b64encode(data) {
  let out = "";
  for (let i = 0; i < data.length; i += 3) {
    const n = (data[i] << 16) | ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < data.length ? B64[(n >> 6) & 63] : "=";
    out += i + 2 < data.length ? B64[n & 63] : "=";
  }
  return out;
}

/** Strict and canonical (same rules as Python). @param {string} s @returns {Uint8Array} */
export function b64decode(s) {
  if (typeof s !== "string" || !B64_RE.test(s)) throw new BadEnvelope("bad base64");
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const v = [0, 1, 2, 3].map((k) => (s[i + k] === "=" ? 0 : B64.indexOf(s[i + k])));
    const n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    for (const byte of [(n >> 16) & 255, (n >> 8) & 255, n & 255]) if (o < out.length) out[o++] = byte;
  }
  if (b64encode(out) !== s) throw new BadEnvelope("non-canonical base64");
  return out;
}

/** @param {Uint8Array} b @returns {string} */
export function toHex(b) {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** @param {string} h @returns {Uint8Array} */
export function fromHex(h) {
  if (!/^(?:[0-9a-f]{2})*$/.test(h)) throw new BadEnvelope("bad hex");
  return Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
}
