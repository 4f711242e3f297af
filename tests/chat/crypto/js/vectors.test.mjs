// The JS module against the shared vectors (tests/vectors/e2e.json, made by Python):
// recompute every output from the recorded inputs and require the same bytes, then open /
// verify everything and check each rejection's stable code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { e2e } from "./load_e2e.mjs";

const V = JSON.parse(readFileSync(new URL("../../../vectors/e2e.json", import.meta.url), "utf8"));
const fh = e2e.fromHex;
const th = e2e.toHex;
const K = V.keys;
const root = e2e.signKeypair(fh(K.team_root.seed));
const team1 = e2e.newTeamKey(1, fh(K.team_1.seed));
const team2 = e2e.newTeamKey(2, fh(K.team_2.seed));
const dev = (d) => e2e.deviceKeys(fh(d.box_seed), fh(d.sign_seed));
const nurseA = dev(K.nurse_a);
const nurseB = dev(K.nurse_b);
const youth = e2e.signKeypair(fh(K.youth.seed));
const ck = fh(K.ck);
const conv = V.envelopes[0].conversation_id;

function codeOf(fn) {
  try {
    fn();
  } catch (e) {
    if (e instanceof e2e.E2EError) return e.code;
    throw e;
  }
  return null;
}

test("key pairs and key ids", () => {
  assert.equal(th(root.publicKey), K.team_root.public_key);
  assert.equal(th(team1.keys.publicKey), K.team_1.public_key);
  assert.equal(th(team2.keys.publicKey), K.team_2.public_key);
  for (const [d, v] of [[nurseA, K.nurse_a], [nurseB, K.nurse_b]]) {
    assert.equal(th(d.box.publicKey), v.box_public_key);
    assert.equal(th(d.box.secretKey), v.box_secret_key);
    assert.equal(th(d.sign.publicKey), v.sign_public_key);
    assert.equal(th(e2e.keyId(d.sign.publicKey)), v.key_id);
  }
  assert.equal(th(youth.publicKey), K.youth.public_key);
  assert.equal(th(e2e.keyId(youth.publicKey)), K.youth.key_id);
});

test("team statements: same bytes, verify, tamper", () => {
  for (const v of V.team_statements) {
    const st = { service: v.service, epoch: v.epoch, publicKey: fh(v.public_key), notBefore: v.not_before };
    assert.equal(th(e2e.encodeTeamStatement(st)), v.encoded);
    assert.equal(th(e2e.signTeamStatement(st, root)), v.signed);
    const got = e2e.verifyTeamStatement(fh(v.signed), root.publicKey, v.service);
    assert.equal(got.epoch, v.epoch);
    assert.equal(got.notBefore, v.not_before);
    const bad = fh(v.signed);
    bad[40] ^= 1;
    assert.equal(codeOf(() => e2e.verifyTeamStatement(bad, root.publicKey)), "e2e_bad_signature");
    assert.equal(codeOf(() => e2e.verifyTeamStatement(fh(v.signed), root.publicKey, "other")), "e2e_bad_signature");
    assert.equal(codeOf(() => e2e.verifyTeamStatement(fh(v.signed), nurseA.sign.publicKey)), "e2e_bad_signature");
  }
});

test("member statements: same bytes, verify", () => {
  for (const v of V.member_statements) {
    const st = {
      service: v.service, epoch: v.epoch, member: v.member,
      signPublicKey: fh(v.sign_public_key), boxPublicKey: fh(v.box_public_key),
    };
    assert.equal(th(e2e.signMemberStatement(st, root)), v.signed);
    assert.deepEqual(e2e.verifyMemberStatement(fh(v.signed), root.publicKey, v.service).member, v.member);
  }
});

const statement = (i) => e2e.verifyTeamStatement(fh(V.team_statements[i].signed), root.publicKey);

test("team key grants: same bytes, open, check against statement", () => {
  for (const g of V.team_key_grants) {
    const team = g.epoch === 1 ? team1 : team2;
    const d = g.device === "nurse_a" ? nurseA : nurseB;
    assert.equal(th(e2e.sealTeamKey(team, d.box.publicKey, fh(g.eph_seed))), g.sealed);
    const opened = e2e.openTeamKey(fh(g.sealed), d.box, statement(g.epoch - 1));
    assert.equal(th(opened.keys.secretKey), th(team.keys.secretKey));
    const other = g.epoch === 1 ? 1 : 0;
    assert.equal(codeOf(() => e2e.openTeamKey(fh(g.sealed), d.box, statement(other))), "e2e_key_mismatch");
  }
});

test("key bundles: make, reseal, open; removed member cannot open the new one", () => {
  const [v1, v2] = V.key_bundles;
  const b1 = e2e.makeKeyBundle(ck, youth.publicKey, statement(0), fh(v1.eph_seed));
  assert.equal(th(e2e.encodeKeyBundle(b1)), v1.encoded);
  const b2 = e2e.resealKeyBundle(b1, team1, statement(1), fh(v2.eph_seed));
  assert.equal(th(e2e.encodeKeyBundle(b2)), v2.encoded);
  for (const [b, t] of [[b1, team1], [b2, team2]]) {
    const o = e2e.openKeyBundle(e2e.decodeKeyBundle(e2e.encodeKeyBundle(b)), t);
    assert.equal(th(o.ck), K.ck);
    assert.equal(th(o.youthSignPublicKey), K.youth.public_key);
  }
  // nurse_b was only granted epoch 1: with the keys she holds, epoch 2 is out of reach.
  const bKeys = new Map([[1, e2e.openTeamKey(fh(V.team_key_grants[1].sealed), nurseB.box, statement(0))]]);
  assert.equal(codeOf(() => e2e.openKeyBundleWith(b2, bKeys)), "e2e_unknown_epoch");
  assert.equal(codeOf(() => e2e.openKeyBundle({ epoch: 1, sealed: b2.sealed }, bKeys.get(1))), "e2e_decrypt");
  assert.equal(codeOf(() => e2e.checkBundleEpoch(1, 2)), "e2e_stale_epoch");
  assert.equal(codeOf(() => e2e.checkBundleEpoch(3, 2)), "e2e_unknown_epoch");
  assert.equal(codeOf(() => e2e.checkBundleEpoch(2, 2)), null);
});

test("envelopes: same bytes from the same inputs, and they open", () => {
  let receiver = e2e.withEpoch(e2e.newSession(conv, ck, 1, [youth.publicKey, nurseA.sign.publicKey]), 2);
  for (const v of V.envelopes) {
    const sender = v.sender === "youth" ? youth : nurseA.sign;
    const data = e2e.encryptEnvelope(ck, v.conversation_id, v.epoch, sender, v.sequence, fh(v.plaintext), fh(v.nonce));
    assert.equal(e2e.envelopeToBody(data), v.body, v.label);
    let m;
    [receiver, m] = e2e.openMessage(receiver, v.body);
    assert.equal(th(m.plaintext), v.plaintext, v.label);
    assert.equal(m.sequence, v.sequence);
    assert.equal(m.epoch, v.epoch);
  }
});

test("rejections carry the same stable codes as in Python", () => {
  const R = V.rejections;
  const senders = [youth.publicKey, nurseB.sign.publicKey];
  const fresh = () => e2e.withEpoch(e2e.newSession(R.receiver.conversation_id, ck, 1, senders, nurseA.sign), 2);
  for (const c of R.cases) {
    assert.equal(codeOf(() => e2e.openMessage(fresh(), c.body)), c.code, c.label);
  }
  const [s1] = e2e.openMessage(fresh(), R.replay.body);
  assert.equal(codeOf(() => e2e.openMessage(s1, R.replay.body)), "e2e_replay");
  assert.equal(codeOf(() => e2e.openMessage(fresh(), R.removed_sender.body)), null);
  const removed = e2e.withSenders(fresh(), [], [nurseB.sign.publicKey]);
  assert.equal(codeOf(() => e2e.openMessage(removed, R.removed_sender.body)), "e2e_unknown_sender");
});

test("wrapped device keys: same blob, NFC password, wrong password is typed", () => {
  const w = V.wrapped_device_keys;
  const blob = e2e.wrapDeviceKeys(nurseA, w.password, {
    salt: fh(w.salt), nonce: fh(w.nonce), opslimit: w.opslimit, memlimit: w.memlimit,
  });
  assert.equal(th(blob), w.blob);
  const keys = e2e.unwrapDeviceKeys(fh(w.blob), w.password_nfd);
  assert.equal(th(keys.sign.publicKey), K.nurse_a.sign_public_key);
  assert.equal(th(keys.box.publicKey), K.nurse_a.box_public_key);
  const err = (() => {
    try {
      e2e.unwrapDeviceKeys(fh(w.blob), w.wrong_password);
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof e2e.WrongPassword);
  assert.equal(err.code, "e2e_wrong_password");
});

test("safety codes and root fingerprint", () => {
  assert.equal(e2e.rootFingerprint(root.publicKey), V.safety.root_fingerprint);
  for (const c of V.safety.codes) {
    assert.equal(e2e.safetyCode(fh(c.root_public_key), fh(c.youth_public_key)), c.code);
  }
  assert.equal(e2e.checkRootPin(null, root.publicKey).status, "first_use");
  assert.equal(e2e.checkRootPin(V.safety.root_fingerprint, root.publicKey).status, "match");
  assert.equal(e2e.checkRootPin(V.safety.root_fingerprint, youth.publicKey).status, "changed");
});

test("journal note and conversation key grant", () => {
  const gw = e2e.boxKeypair(fh(K.epj_gateway.seed));
  assert.equal(th(e2e.sealJournalNote(V.journal.note, gw.publicKey, fh(V.journal.eph_seed))), V.journal.sealed);
  assert.equal(e2e.openJournalNote(fh(V.journal.sealed), gw), V.journal.note);
  const dv = e2e.boxKeypair(fh(K.youth_device.seed));
  const g = V.conversation_key_grant;
  assert.equal(th(e2e.sealConversationKey(ck, g.conversation_id, dv.publicKey, fh(g.eph_seed))), g.sealed);
  assert.equal(th(e2e.openConversationKey(fh(g.sealed), g.conversation_id, dv)), K.ck);
  assert.equal(codeOf(() => e2e.openConversationKey(fh(g.sealed), "c-other", dv)), "e2e_decrypt");
});

test("base64 is standard, padded and strict", () => {
  for (const b of V.base64) {
    assert.equal(e2e.b64encode(fh(b.hex)), b.b64);
    assert.equal(th(e2e.b64decode(b.b64)), b.hex);
  }
  for (const bad of ["Zg", "Zg=", "Zh==", "Z g==", "_-8=", "Zm9v\n"]) {
    assert.equal(codeOf(() => e2e.b64decode(bad)), "e2e_bad_envelope", bad);
  }
});
