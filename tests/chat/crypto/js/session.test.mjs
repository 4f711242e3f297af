// JS-only behaviour that the vectors do not pin: replay window, state not committed on
// failure, own sequence recovery, size limits, selfTest.
import { test } from "node:test";
import assert from "node:assert/strict";
import { e2e } from "./load_e2e.mjs";

const conv = "c-session";
const youth = e2e.signKeypair();
const nurse = e2e.signKeypair();
const ck = e2e.conversationKey();
const text = (s) => e2e.utf8Encode(s);

function codeOf(fn) {
  try {
    fn();
  } catch (e) {
    if (e instanceof e2e.E2EError) return e.code;
    throw e;
  }
  return null;
}

test("out of order within the window is fine; duplicates and too-old are replays", () => {
  let y = e2e.newSession(conv, ck, 1, [], youth);
  const bodies = [];
  for (let i = 0; i < 70; i++) {
    let b;
    [y, b] = e2e.sealMessage(y, text(`m${i}`));
    bodies.push(b);
  }
  let n = e2e.newSession(conv, ck, 1, [youth.publicKey], nurse);
  [n] = e2e.openMessage(n, bodies[69]);
  [n] = e2e.openMessage(n, bodies[10]); // 69 - 10 < 64: still inside the window
  assert.equal(codeOf(() => e2e.openMessage(n, bodies[10])), "e2e_replay");
  assert.equal(codeOf(() => e2e.openMessage(n, bodies[5])), "e2e_replay"); // 69 - 5 >= 64
});

test("a rejected message changes nothing", () => {
  let y = e2e.newSession(conv, ck, 1, [], youth);
  let b;
  [y, b] = e2e.sealMessage(y, text("hei"));
  const n = e2e.newSession(conv, ck, 1, [youth.publicKey], nurse);
  const raw = e2e.b64decode(b);
  raw[60] ^= 1;
  assert.equal(codeOf(() => e2e.openMessage(n, e2e.b64encode(raw))), "e2e_bad_signature");
  const [, m] = e2e.openMessage(n, b); // the genuine one is still accepted
  assert.equal(e2e.utf8Decode(m.plaintext), "hei");
});

test("a reloaded sender resumes its counter from its own history", () => {
  let y = e2e.newSession(conv, ck, 1, [nurse.publicKey], youth);
  const mine = [];
  for (let i = 0; i < 3; i++) {
    let b;
    [y, b] = e2e.sealMessage(y, text(`m${i}`));
    mine.push(b);
  }
  let reloaded = e2e.newSession(conv, ck, 1, [nurse.publicKey], youth);
  for (const b of mine) [reloaded] = e2e.openMessage(reloaded, b);
  assert.equal(reloaded.nextSequence, 3);
});

test("padding buckets hide lengths; too large is refused", () => {
  let y = e2e.newSession(conv, ck, 1, [], youth);
  const lengths = new Set();
  for (const n of [0, 1, 100, 255]) {
    let b;
    [y, b] = e2e.sealMessage(y, new Uint8Array(n));
    lengths.add(b.length);
  }
  assert.equal(lengths.size, 1);
  assert.equal(codeOf(() => e2e.sealMessage(y, new Uint8Array(e2e.MAX_PLAINTEXT + 1))), "e2e_too_large");
  const [, big] = e2e.sealMessage(y, new Uint8Array(e2e.MAX_PLAINTEXT));
  assert.ok(big.length < 64 * 1024);
});

test("selfTest passes", () => {
  const r = e2e.selfTest();
  assert.equal(r.ok, true, r.error);
  assert.ok(r.checks.length >= 6);
});
