// Team keys, their distribution, and conversation key bundles; mirrors chat/crypto/team.py
// (epoch policy documented there and in docs/crypto.md).
import { boxKeypair, boxKeypairFromSecret } from "./keys.js";
import { bytesEqual, concat, Reader, text, u32, u8 } from "./encoding.js";
import { BadEnvelope, DecryptFailed, KeyMismatch, StaleEpoch, UnknownEpoch } from "./errors.js";
import { SEAL_OVERHEAD, seal, sealOpen } from "./primitives.js";

export const BUNDLE_VERSION = 1;
export const TAG_KEY_BUNDLE = 0x01;
export const TAG_TEAM_KEY = 0x02;
export const TAG_CONVERSATION_KEY = 0x03;
export const CK_BYTES = 32;
export const BUNDLE_BYTES = 1 + 4 + SEAL_OVERHEAD + 1 + CK_BYTES + 32; // 118

/** @typedef {{epoch: number, keys: import("./keys.js").BoxKeyPair}} TeamKey */
/** @typedef {{epoch: number, sealed: Uint8Array}} KeyBundle */
/** @typedef {{epoch: number, ck: Uint8Array, youthSignPublicKey: Uint8Array}} OpenedBundle */

/** @param {number} epoch @param {Uint8Array} [seed] tests only @returns {TeamKey} */
export function newTeamKey(epoch, seed) {
  return Object.freeze({ epoch, keys: boxKeypair(seed) });
}

/** @param {TeamKey} team @param {Uint8Array} deviceBoxPublicKey @param {Uint8Array} [ephSeed] */
export function sealTeamKey(team, deviceBoxPublicKey, ephSeed) {
  return seal(concat(u8(TAG_TEAM_KEY), u32(team.epoch), team.keys.secretKey), deviceBoxPublicKey, ephSeed);
}

/**
 * @param {Uint8Array} sealed @param {import("./keys.js").BoxKeyPair} deviceBox
 * @param {import("./statements.js").TeamStatement} statement verified
 * @returns {TeamKey}
 */
export function openTeamKey(sealed, deviceBox, statement) {
  const r = new Reader(sealOpen(sealed, deviceBox.publicKey, deviceBox.secretKey));
  if (r.u8() !== TAG_TEAM_KEY) throw new BadEnvelope("not a team key");
  const epoch = r.u32();
  const secret = r.take(32);
  r.end();
  const keys = boxKeypairFromSecret(secret);
  if (epoch !== statement.epoch || !bytesEqual(keys.publicKey, statement.publicKey)) {
    throw new KeyMismatch("team key does not match the statement");
  }
  return Object.freeze({ epoch, keys });
}

/** @param {KeyBundle} b @returns {Uint8Array} */
export function encodeKeyBundle(b) {
  return concat(u8(BUNDLE_VERSION), u32(b.epoch), b.sealed);
}

/** @param {Uint8Array} data @returns {KeyBundle} */
export function decodeKeyBundle(data) {
  if (data.length !== BUNDLE_BYTES) throw new BadEnvelope("key bundle has the wrong length");
  const r = new Reader(data);
  if (r.u8() !== BUNDLE_VERSION) throw new BadEnvelope("unknown key bundle version");
  return Object.freeze({ epoch: r.u32(), sealed: r.rest() });
}

/**
 * Seal CK ‖ youth signing key to a *verified* team statement's key.
 * @param {Uint8Array} ck @param {Uint8Array} youthSignPublicKey
 * @param {import("./statements.js").TeamStatement} statement @param {Uint8Array} [ephSeed]
 * @returns {KeyBundle}
 */
export function makeKeyBundle(ck, youthSignPublicKey, statement, ephSeed) {
  if (ck.length !== CK_BYTES || youthSignPublicKey.length !== 32) {
    throw new BadEnvelope("CK and signing key must be 32 bytes");
  }
  const msg = concat(u8(TAG_KEY_BUNDLE), ck, youthSignPublicKey);
  return Object.freeze({ epoch: statement.epoch, sealed: seal(msg, statement.publicKey, ephSeed) });
}

/** @param {KeyBundle} bundle @param {TeamKey} team @returns {OpenedBundle} */
export function openKeyBundle(bundle, team) {
  if (bundle.epoch !== team.epoch) throw new UnknownEpoch("bundle is sealed to another epoch");
  const r = new Reader(sealOpen(bundle.sealed, team.keys.publicKey, team.keys.secretKey));
  if (r.u8() !== TAG_KEY_BUNDLE) throw new BadEnvelope("not a key bundle");
  const ck = r.take(CK_BYTES);
  const youthSignPublicKey = r.take(32);
  r.end();
  return Object.freeze({ epoch: bundle.epoch, ck, youthSignPublicKey });
}

/** @param {KeyBundle} bundle @param {Map<number, TeamKey>} teamKeys @returns {OpenedBundle} */
export function openKeyBundleWith(bundle, teamKeys) {
  const team = teamKeys.get(bundle.epoch);
  if (team === undefined) {
    const newest = Math.max(-1, ...teamKeys.keys());
    throw bundle.epoch > newest ? new UnknownEpoch("no team key for epoch") : new StaleEpoch("no team key for epoch");
  }
  return openKeyBundle(bundle, team);
}

/**
 * Rotation: move an open conversation to the new epoch (same CK, same youth key).
 * @param {KeyBundle} old @param {TeamKey} oldTeam
 * @param {import("./statements.js").TeamStatement} newStatement @param {Uint8Array} [ephSeed]
 * @returns {KeyBundle}
 */
export function resealKeyBundle(old, oldTeam, newStatement, ephSeed) {
  if (newStatement.epoch <= old.epoch) throw new StaleEpoch("new statement must be a later epoch");
  const opened = openKeyBundle(old, oldTeam);
  return makeKeyBundle(opened.ck, opened.youthSignPublicKey, newStatement, ephSeed);
}

/** Gate for *new* bundles. @param {number} bundleEpoch @param {number} currentEpoch */
export function checkBundleEpoch(bundleEpoch, currentEpoch) {
  if (bundleEpoch < currentEpoch) throw new StaleEpoch("bundle sealed to a superseded epoch");
  if (bundleEpoch > currentEpoch) throw new UnknownEpoch("bundle sealed to an epoch not yet known");
}

/**
 * CK to a youth's new (logged-in) device, by a member's browser after the server attests it.
 * @param {Uint8Array} ck @param {string} conversationId @param {Uint8Array} deviceBoxPublicKey
 * @param {Uint8Array} [ephSeed]
 */
export function sealConversationKey(ck, conversationId, deviceBoxPublicKey, ephSeed) {
  if (ck.length !== CK_BYTES) throw new BadEnvelope("CK must be 32 bytes");
  return seal(concat(u8(TAG_CONVERSATION_KEY), text(conversationId), ck), deviceBoxPublicKey, ephSeed);
}

/** @param {Uint8Array} sealed @param {string} conversationId @param {import("./keys.js").BoxKeyPair} deviceBox */
export function openConversationKey(sealed, conversationId, deviceBox) {
  const r = new Reader(sealOpen(sealed, deviceBox.publicKey, deviceBox.secretKey));
  if (r.u8() !== TAG_CONVERSATION_KEY) throw new BadEnvelope("not a conversation key");
  if (r.text() !== conversationId) throw new DecryptFailed("conversation key is for another conversation");
  const ck = r.take(CK_BYTES);
  r.end();
  return ck;
}
