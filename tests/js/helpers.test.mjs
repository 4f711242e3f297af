// The dashboard's part of a colleague asked in (static/js/dashboard/helpers.js), without a
// browser: the join/leave lines and when a state ends her place.
import { test } from "node:test";
import assert from "node:assert/strict";
import { JOINED, LEFT, onState, systemLine } from "../../static/js/dashboard/helpers.js";

globalThis.document = {
  getElementById: () => ({ dataset: { tHelperJoined: "{name} ble med i samtalen.",
                                      tHelperLeft: "{name} forlot samtalen." } }),
};

test("a join and a leave are lines that keep the list of helpers in step", () => {
  const c = { helpers: [] };
  assert.deepEqual(systemLine(c, { cmid: JOINED, sender: "Kari" }),
                   { kind: "system", text: "Kari ble med i samtalen.", meta: "" });
  systemLine(c, { cmid: JOINED, sender: "Kari" }); // the same line again (a re-read): once
  assert.deepEqual(c.helpers, ["Kari"]);
  assert.equal(systemLine(c, { cmid: LEFT, sender: "Kari" }).text, "Kari forlot samtalen.");
  assert.deepEqual(c.helpers, []);
});

test("the holder's moves end a helper's place; her own open and a link do not", () => {
  const joined = () => {
    const c = {};
    assert.equal(onState(c, { state: "active", helping: true, key_bundle: "a2I=", helpers: ["Kari"] }), false);
    assert.equal(c.helping, true);
    assert.equal(c.mine, false);
    assert.deepEqual(c.helpers, ["Kari"]);
    return c;
  };
  assert.equal(onState(joined(), { state: "active", verified: { method: "idporten" } }), false);
  for (const moved of [{ state: "waiting" }, { state: "closed", outcome: "other" },
                       { state: "later", due: null }, { state: "active", transferred: true, nurse: "Per" },
                       { state: "active", nurse: "Per" }]) {
    const c = joined();
    assert.equal(onState(c, moved), true, JSON.stringify(moved));
    assert.equal(c.helping, false);
  }
  // The holder's own dashboard: no place to end.
  assert.equal(onState({ mine: true }, { state: "waiting" }), false);
});
