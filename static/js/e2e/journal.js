// Journal boundary: seal a UTF-8 note to the EPJ gateway's X25519 key; mirrors chat/crypto/journal.py.
import { seal, sealOpen } from "./primitives.js";
import { utf8Decode, utf8Encode } from "./encoding.js";
import { DecryptFailed } from "./errors.js";

/** @param {string} note @param {Uint8Array} gatewayPublicKey @param {Uint8Array} [ephSeed] tests only */
export function sealJournalNote(note, gatewayPublicKey, ephSeed) {
  return seal(utf8Encode(note), gatewayPublicKey, ephSeed);
}

/** @param {Uint8Array} sealed @param {import("./keys.js").BoxKeyPair} gateway @returns {string} */
export function openJournalNote(sealed, gateway) {
  const raw = sealOpen(sealed, gateway.publicKey, gateway.secretKey);
  try {
    return utf8Decode(raw);
  } catch {
    throw new DecryptFailed("journal note is not UTF-8");
  }
}
