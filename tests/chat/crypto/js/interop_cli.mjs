// Cross-language interop driver, called by tests/chat/crypto/test_e2e_js.py:
//   node tests/chat/crypto/js/interop_cli.mjs <command>
// Reads one JSON object on stdin, writes one JSON object on stdout. Bytes travel as hex,
// message bodies as their base64 strings (exactly what the protocol's `body` carries).
import { e2e } from "./load_e2e.mjs";

const { fromHex: fh, toHex: th, utf8Encode, utf8Decode } = e2e;

const commands = {
  /** Youth starts a conversation against a verified statement and writes some messages. */
  youthStart(inp) {
    const statement = e2e.verifyTeamStatement(fh(inp.signed_statement), fh(inp.root_public_key), inp.service);
    const pin = e2e.checkRootPin(null, fh(inp.root_public_key));
    const youth = e2e.signKeypair();
    const ck = e2e.conversationKey();
    const bundle = e2e.makeKeyBundle(ck, youth.publicKey, statement);
    let s = e2e.newSession(inp.conversation_id, ck, statement.epoch, inp.nurse_sign_public_keys.map(fh), youth);
    const bodies = [];
    for (const text of inp.plaintexts) {
      let body;
      [s, body] = e2e.sealMessage(s, utf8Encode(text));
      bodies.push(body);
    }
    return {
      bundle: e2e.b64encode(e2e.encodeKeyBundle(bundle)),
      youth_public_key: th(youth.publicKey),
      youth_seed: th(youth.seed),
      ck: th(ck),
      bodies,
      safety_code: e2e.safetyCode(fh(inp.root_public_key), youth.publicKey),
      pin_fingerprint: pin.fingerprint,
    };
  },

  /** Youth reads replies (and its own earlier messages) with its stored state. */
  youthRead(inp) {
    const youth = e2e.signKeypair(fh(inp.youth_seed));
    let s = e2e.newSession(inp.conversation_id, fh(inp.ck), inp.epoch, inp.nurse_sign_public_keys.map(fh), youth);
    const plaintexts = [];
    for (const body of inp.bodies) {
      let m;
      [s, m] = e2e.openMessage(s, body);
      plaintexts.push(utf8Decode(m.plaintext));
    }
    return { plaintexts, next_sequence: s.nextSequence };
  },

  /** Nurse first login: make device keys, wrap them under the password. */
  nurseEnrol(inp) {
    const dev = e2e.deviceKeys();
    return {
      wrapped: e2e.b64encode(e2e.wrapDeviceKeys(dev, inp.password)),
      box_public_key: th(dev.box.publicKey),
      sign_public_key: th(dev.sign.publicKey),
    };
  },

  /** Nurse signs in (unwrap), takes the team key, opens the bundle, reads and replies. */
  nurseRead(inp) {
    const dev = e2e.unwrapDeviceKeys(e2e.b64decode(inp.wrapped), inp.password);
    const statement = e2e.verifyTeamStatement(fh(inp.signed_statement), fh(inp.root_public_key), inp.service);
    const team = e2e.openTeamKey(fh(inp.team_key_grant), dev.box, statement);
    const bundle = e2e.decodeKeyBundle(e2e.b64decode(inp.bundle));
    e2e.checkBundleEpoch(bundle.epoch, statement.epoch);
    const opened = e2e.openKeyBundle(bundle, team);
    let s = e2e.newSession(inp.conversation_id, opened.ck, bundle.epoch, [opened.youthSignPublicKey], dev.sign);
    const plaintexts = [];
    for (const body of inp.bodies) {
      let m;
      [s, m] = e2e.openMessage(s, body);
      plaintexts.push(utf8Decode(m.plaintext));
    }
    const replies = [];
    for (const text of inp.replies) {
      let body;
      [s, body] = e2e.sealMessage(s, utf8Encode(text));
      replies.push(body);
    }
    const journal = inp.journal_note
      ? th(e2e.sealJournalNote(inp.journal_note, fh(inp.epj_public_key)))
      : null;
    return {
      plaintexts,
      replies,
      journal,
      safety_code: e2e.safetyCode(fh(inp.root_public_key), opened.youthSignPublicKey),
    };
  },

  /** Unwrap password-wrapped device keys; report the signing key or the error code. */
  unwrap(inp) {
    try {
      const dev = e2e.unwrapDeviceKeys(e2e.b64decode(inp.wrapped), inp.password);
      return { sign_public_key: th(dev.sign.publicKey) };
    } catch (err) {
      if (err instanceof e2e.E2EError) return { code: err.code };
      throw err;
    }
  },

  /** Open one body and report the error code (or the plaintext). */
  tryOpen(inp) {
    const s = e2e.newSession(inp.conversation_id, fh(inp.ck), inp.epoch, inp.senders.map(fh), null);
    try {
      const [, m] = e2e.openMessage(s, inp.body);
      return { plaintext: utf8Decode(m.plaintext) };
    } catch (err) {
      if (err instanceof e2e.E2EError) return { code: err.code };
      throw err;
    }
  },
};

const name = process.argv[2];
if (!(name in commands)) {
  process.stderr.write(`unknown command ${name}\n`);
  process.exit(2);
}
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
process.stdout.write(JSON.stringify(commands[name](input)) + "\n");
