// Team / member statements signed by the team root; mirrors chat/crypto/statements.py.
import { concat, Reader, text, u32, u64, utf8Encode } from "./encoding.js";
import { BadEnvelope, BadSignature } from "./errors.js";
import { SIG_BYTES, signDetached, verifyDetached } from "./primitives.js";

export const TEAM_STATEMENT_DOMAIN = utf8Encode("helseprat/team-statement/v1");
export const MEMBER_STATEMENT_DOMAIN = utf8Encode("helseprat/member-statement/v1");

/** @typedef {{service: string, epoch: number, publicKey: Uint8Array, notBefore: number}} TeamStatement */
/** @typedef {{service: string, epoch: number, member: string, signPublicKey: Uint8Array, boxPublicKey: Uint8Array}} MemberStatement */

/** @param {Uint8Array} k */
function key32(k) {
  if (!(k instanceof Uint8Array) || k.length !== 32) throw new BadEnvelope("public key must be 32 bytes");
  return k;
}

/** @param {TeamStatement} st @returns {Uint8Array} */
export function encodeTeamStatement(st) {
  return concat(TEAM_STATEMENT_DOMAIN, text(st.service), u32(st.epoch), key32(st.publicKey), u64(st.notBefore));
}

/** @param {Uint8Array} data @returns {TeamStatement} */
export function decodeTeamStatement(data) {
  const r = new Reader(data);
  r.expect(TEAM_STATEMENT_DOMAIN);
  const st = { service: r.text(), epoch: r.u32(), publicKey: r.take(32), notBefore: r.u64() };
  r.end();
  return Object.freeze(st);
}

/** @param {MemberStatement} st @returns {Uint8Array} */
export function encodeMemberStatement(st) {
  return concat(
    MEMBER_STATEMENT_DOMAIN, text(st.service), u32(st.epoch), text(st.member),
    key32(st.signPublicKey), key32(st.boxPublicKey),
  );
}

/** @param {Uint8Array} data @returns {MemberStatement} */
export function decodeMemberStatement(data) {
  const r = new Reader(data);
  r.expect(MEMBER_STATEMENT_DOMAIN);
  const st = {
    service: r.text(), epoch: r.u32(), member: r.text(),
    signPublicKey: r.take(32), boxPublicKey: r.take(32),
  };
  r.end();
  return Object.freeze(st);
}

/** @param {TeamStatement} st @param {import("./keys.js").SignKeyPair} root @returns {Uint8Array} */
export function signTeamStatement(st, root) {
  const body = encodeTeamStatement(st);
  return concat(body, signDetached(body, root.secretKey));
}

/** @param {MemberStatement} st @param {import("./keys.js").SignKeyPair} root @returns {Uint8Array} */
export function signMemberStatement(st, root) {
  const body = encodeMemberStatement(st);
  return concat(body, signDetached(body, root.secretKey));
}

/** @param {Uint8Array} signed */
function split(signed) {
  if (signed.length <= SIG_BYTES) throw new BadEnvelope("signed statement too short");
  return [signed.slice(0, -SIG_BYTES), signed.slice(-SIG_BYTES)];
}

/**
 * @param {Uint8Array} signed @param {Uint8Array} rootPublicKey @param {string} [service]
 * @returns {TeamStatement}
 */
export function verifyTeamStatement(signed, rootPublicKey, service) {
  const [body, sig] = split(signed);
  const st = decodeTeamStatement(body);
  verifyDetached(sig, body, rootPublicKey);
  if (service !== undefined && st.service !== service) throw new BadSignature("statement is for another service");
  return st;
}

/**
 * @param {Uint8Array} signed @param {Uint8Array} rootPublicKey @param {string} [service]
 * @returns {MemberStatement}
 */
export function verifyMemberStatement(signed, rootPublicKey, service) {
  const [body, sig] = split(signed);
  const st = decodeMemberStatement(body);
  verifyDetached(sig, body, rootPublicKey);
  if (service !== undefined && st.service !== service) throw new BadSignature("statement is for another service");
  return st;
}
