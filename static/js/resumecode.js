// The resume code's format, browser side (mirrors anon/resume.py; its constants are generated
// from there by the Makefile): 16 characters of Crockford's base32 (80 bits) in four groups of
// four, forgiving when typed back (case, spaces, dashes; O = 0, I = L = 1). The handle that
// finds the conversation is derived from the code, so the youth keeps one thing.
import { ALPHABET, GROUP, SECRET_GROUPS, HANDLE_GROUPS, HANDLE_DOMAIN } from "./resumecode.gen.js";

const LENGTH = GROUP * SECRET_GROUPS;

function groups(chars) {
  const out = [];
  for (let i = 0; i < chars.length; i += GROUP) out.push(chars.slice(i, i + GROUP));
  return out;
}

/** A new secret: 16 characters, 5 random bits each (32 divides 256: no bias). */
export function newSecret() {
  const bytes = new Uint8Array(LENGTH);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => ALPHABET[b & 31]).join("");
}

/** The 16 characters of what the youth typed, or null if it is not a code. */
export function normalize(text) {
  const chars = String(text).replace(/[\s\-_.·]+/g, "").toUpperCase()
    .replace(/O/g, "0").replace(/[IL]/g, "1");
  if (chars.length !== LENGTH || [...chars].some((c) => !ALPHABET.includes(c))) return null;
  return chars;
}

/** As shown: "7K3M-Q9TD-2HXA-WB4R". */
export function show(secret) { return groups(secret).join("-"); }

/** The handle (SHA-256(domain ‖ secret), first 80 bits, in the same alphabet, in groups). */
export async function handleOf(secret) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256",
    new TextEncoder().encode(HANDLE_DOMAIN + secret)));
  let bits = 0n;
  for (const b of digest.subarray(0, 10)) bits = (bits << 8n) | BigInt(b);
  const n = HANDLE_GROUPS * GROUP;
  let chars = "";
  for (let i = n - 1; i >= 0; i -= 1) chars += ALPHABET[Number((bits >> BigInt(5 * i)) & 31n)];
  return groups(chars).join("-");
}
