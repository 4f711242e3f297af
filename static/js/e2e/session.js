// Per-conversation state: senders, epochs, replay windows. Mirrors chat/crypto/session.py
// (rules documented there). Immutable: every call returns a new session object.
import { decodeEnvelope, bodyToEnvelope, decryptEnvelope, encryptEnvelope, envelopeToBody, verifyEnvelope } from "./envelope.js";
import { keyId } from "./keys.js";
import { toHex } from "./encoding.js";
import { BadEnvelope, Replay, StaleEpoch, UnknownEpoch, UnknownSender } from "./errors.js";

export const REPLAY_WINDOW = 64;

/** @typedef {{highest: number, seen: ReadonlyArray<number>}} ReplayWindow */
/**
 * @typedef {{conversationId: string, ck: Uint8Array, epochs: ReadonlyArray<number>,
 *   senders: ReadonlyMap<string, Uint8Array>, me: import("./keys.js").SignKeyPair | null,
 *   nextSequence: number, windows: ReadonlyMap<string, ReplayWindow>}} ConversationSession
 *   senders / windows are keyed by the hex key id.
 */
/**
 * @typedef {{senderKeyId: Uint8Array, senderPublicKey: Uint8Array, epoch: number,
 *   sequence: number, plaintext: Uint8Array}} OpenedMessage
 */

/** @param {ConversationSession} s @param {Partial<ConversationSession>} changes */
function replace(s, changes) {
  return Object.freeze({ ...s, ...changes });
}

/** @param {ConversationSession} s */
export function currentEpoch(s) {
  return Math.max(...s.epochs);
}

/**
 * @param {string} conversationId @param {Uint8Array} ck @param {number} epoch
 * @param {Iterable<Uint8Array>} senders Ed25519 public keys allowed to write (own added automatically)
 * @param {import("./keys.js").SignKeyPair | null} [me]
 * @returns {ConversationSession}
 */
export function newSession(conversationId, ck, epoch, senders, me = null) {
  if (ck.length !== 32) throw new BadEnvelope("CK must be 32 bytes");
  const map = new Map();
  for (const k of [...senders, ...(me ? [me.publicKey] : [])]) map.set(toHex(keyId(k)), k);
  return Object.freeze({
    conversationId, ck, epochs: Object.freeze([epoch]), senders: map, me, nextSequence: 0, windows: new Map(),
  });
}

/** @param {ConversationSession} s @param {number} epoch @returns {ConversationSession} */
export function withEpoch(s, epoch) {
  return replace(s, { epochs: Object.freeze([...new Set([...s.epochs, epoch])].sort((a, b) => a - b)) });
}

/**
 * @param {ConversationSession} s @param {Iterable<Uint8Array>} [add] @param {Iterable<Uint8Array>} [remove]
 * @returns {ConversationSession}
 */
export function withSenders(s, add = [], remove = []) {
  const map = new Map(s.senders);
  for (const k of remove) map.delete(toHex(keyId(k)));
  for (const k of add) map.set(toHex(keyId(k)), k);
  return replace(s, { senders: map });
}

/** @param {ConversationSession} s @param {number} epoch */
function checkEpoch(s, epoch) {
  if (s.epochs.includes(epoch)) return;
  if (epoch > currentEpoch(s)) throw new UnknownEpoch("message epoch is newer than any known");
  throw new StaleEpoch("message epoch is not one this conversation is sealed to");
}

/** @param {ReplayWindow} w @param {number} seq @returns {ReplayWindow} */
function checkReplay(w, seq) {
  if (w.seen.includes(seq) || seq <= w.highest - REPLAY_WINDOW) throw new Replay("sequence already seen");
  const highest = Math.max(w.highest, seq);
  const floor = highest - REPLAY_WINDOW;
  return Object.freeze({ highest, seen: Object.freeze([...w.seen, seq].filter((x) => x > floor)) });
}

/**
 * Encrypt as `s.me` at the current epoch.
 * @param {ConversationSession} s @param {Uint8Array} plaintext @param {Uint8Array} [nonce] tests only
 * @returns {[ConversationSession, string]} new session, base64 body
 */
export function sealMessage(s, plaintext, nonce) {
  if (!s.me) throw new UnknownSender("this session has no signing key");
  const seq = s.nextSequence;
  const data = encryptEnvelope(s.ck, s.conversationId, currentEpoch(s), s.me, seq, plaintext, nonce);
  return [replace(s, { nextSequence: seq + 1 }), envelopeToBody(data)];
}

/**
 * Parse, check epoch and sender, verify, check replay, decrypt; commit only on success.
 * @param {ConversationSession} s @param {string} body
 * @returns {[ConversationSession, OpenedMessage]}
 */
export function openMessage(s, body) {
  const env = decodeEnvelope(bodyToEnvelope(body));
  checkEpoch(s, env.epoch);
  const kid = toHex(env.senderKeyId);
  const senderPublicKey = s.senders.get(kid);
  if (!senderPublicKey) throw new UnknownSender("sender is not a known member of this conversation");
  verifyEnvelope(env, s.conversationId, senderPublicKey);
  const window = checkReplay(s.windows.get(kid) ?? { highest: -1, seen: [] }, env.sequence);
  const plaintext = decryptEnvelope(env, s.ck, s.conversationId);
  const windows = new Map(s.windows);
  windows.set(kid, window);
  let nextSequence = s.nextSequence;
  if (s.me && kid === toHex(keyId(s.me.publicKey))) nextSequence = Math.max(nextSequence, env.sequence + 1);
  const message = Object.freeze({
    senderKeyId: env.senderKeyId, senderPublicKey, epoch: env.epoch, sequence: env.sequence, plaintext,
  });
  return [replace(s, { windows, nextSequence }), message];
}
