// helseprat end-to-end encryption, browser side. Same functions and bytes as chat/crypto
// (snake_case there, camelCase here); the shared vectors in tests/vectors/e2e.json pin both.
// Import this module (bundled by esbuild); it awaits libsodium once at load time.
import { checkBundleEpoch, makeKeyBundle, newTeamKey, openKeyBundle, openTeamKey, sealTeamKey } from "./team.js";
import { deviceKeys, signKeypair, conversationKey } from "./keys.js";
import { newSession, openMessage, sealMessage } from "./session.js";
import { signTeamStatement, verifyTeamStatement } from "./statements.js";
import { utf8Decode, utf8Encode } from "./encoding.js";
import { E2EError } from "./errors.js";

export * from "./errors.js";
export { b64decode, b64encode, bytesEqual, fromHex, toHex, utf8Decode, utf8Encode } from "./encoding.js";
export { boxKeypair, boxKeypairFromSecret, conversationKey, deviceKeys, keyId, signKeypair } from "./keys.js";
export {
  decodeMemberStatement, decodeTeamStatement, encodeMemberStatement, encodeTeamStatement,
  signMemberStatement, signTeamStatement, verifyMemberStatement, verifyTeamStatement,
} from "./statements.js";
export {
  checkBundleEpoch, decodeKeyBundle, encodeKeyBundle, makeKeyBundle, newTeamKey, openConversationKey,
  openKeyBundle, openKeyBundleWith, openTeamKey, resealKeyBundle, sealConversationKey, sealTeamKey,
} from "./team.js";
export { unwrapDeviceKeys, wrapDeviceKeys, MEMLIMIT, OPSLIMIT } from "./wrapping.js";
export { openBackup, resumeAuth, resumeWrapKey, sealBackup, BACKUP_BYTES } from "./resume.js";
export {
  bodyToEnvelope, decodeEnvelope, decryptEnvelope, encodeEnvelope, encryptEnvelope, envelopeToBody,
  verifyEnvelope, MAX_PLAINTEXT, PAD_BUCKETS,
} from "./envelope.js";
export { currentEpoch, newSession, openMessage, sealMessage, withEpoch, withSenders } from "./session.js";
export { checkRootPin, rootFingerprint, safetyCode } from "./safety.js";
export { openJournalNote, sealJournalNote } from "./journal.js";
export { signDetached } from "./primitives.js";

/**
 * Round trip of the whole flow with fresh random keys (no password hashing, so it is fast):
 * statement → bundle → nurse opens → youth→nurse and nurse→youth messages → a tampered and a
 * replayed message are refused with the right codes. For the browser interop test.
 * @returns {{ok: boolean, checks: string[], error?: string}}
 */
export function selfTest() {
  /** @type {string[]} */
  const checks = [];
  try {
    const root = signKeypair();
    const team = newTeamKey(1);
    const statement = verifyTeamStatement(
      signTeamStatement({ service: "selftest", epoch: 1, publicKey: team.keys.publicKey, notBefore: 0 }, root),
      root.publicKey, "selftest",
    );
    checks.push("statement");
    const nurseDevice = deviceKeys();
    const teamAtNurse = openTeamKey(sealTeamKey(team, nurseDevice.box.publicKey), nurseDevice.box, statement);
    const youth = signKeypair();
    const ck = conversationKey();
    const bundle = makeKeyBundle(ck, youth.publicKey, statement);
    checkBundleEpoch(bundle.epoch, statement.epoch);
    const opened = openKeyBundle(bundle, teamAtNurse);
    checks.push("bundle");
    let y = newSession("c-selftest", ck, 1, [nurseDevice.sign.publicKey], youth);
    let n = newSession("c-selftest", opened.ck, 1, [opened.youthSignPublicKey], nurseDevice.sign);
    let body;
    [y, body] = sealMessage(y, utf8Encode("hei"));
    const [n2, m1] = openMessage(n, body);
    if (utf8Decode(m1.plaintext) !== "hei") throw new Error("youth→nurse mismatch");
    checks.push("youth_to_nurse");
    expectCode(() => openMessage(n2, body), "e2e_replay");
    checks.push("replay");
    n = n2;
    [n, body] = sealMessage(n, utf8Encode("hallo"));
    const raw = Array.from(body);
    raw[80] = raw[80] === "A" ? "B" : "A";
    expectCode(() => openMessage(y, raw.join("")), "e2e_bad_signature");
    checks.push("tamper");
    const [, m2] = openMessage(y, body);
    if (utf8Decode(m2.plaintext) !== "hallo") throw new Error("nurse→youth mismatch");
    checks.push("nurse_to_youth");
    return { ok: true, checks };
  } catch (e) {
    return { ok: false, checks, error: e instanceof Error ? e.message : String(e) };
  }
}

/** @param {() => unknown} fn @param {string} code */
function expectCode(fn, code) {
  try {
    fn();
  } catch (e) {
    if (e instanceof E2EError && e.code === code) return;
    throw e;
  }
  throw new Error(`expected ${code}`);
}
