// The acute-danger check of the youth's page (static/js/acute.js), without a browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isAcute, matcher, normalize } from "../../static/js/acute.js";
import nb from "../../static/js/acute/nb.js";
import nn from "../../static/js/acute/nn.js";
import en from "../../static/js/acute/en.js";

test("case, diacritics and punctuation are folded away", () => {
  assert.equal(normalize("  Jeg VIL dø!!  "), "jeg vil do");
  assert.equal(normalize("Sjølvmord, æ og å; é"), "sjolvmord ae og a e");
  assert.equal(normalize("don't\n\twant"), "don t want");
  assert.equal(normalize(""), "");
});

test("phrases that signal danger, in bokmål, nynorsk and English", () => {
  for (const text of [
    "jeg vil ta livet mitt", "Jeg tenker på SELVMORD", "har hatt selvmordstanker lenge",
    "jeg vil dø", "jeg vil do", "jeg kutter meg", "noen ganger vil jeg kutte meg", "jeg vil drepe meg selv",
    "han vil drepe meg", "pappa slår meg", "eg vil døy", "eg tenkjer på sjølvmord", "eg skadar meg sjølv",
    "I want to kill myself", "suicide", "thinking about suicidal stuff", "i cut myself last night",
    "I DON'T WANT TO LIVE anymore", "dont want to live", "I'm scared to go home",
  ]) assert.ok(isAcute(text), text);
});

test("everyday questions are not flagged", () => {
  for (const text of [
    "", "hei", "lurer på prevensjon", "jeg vil dra hjem", "det slo meg at jeg har glemt det",
    "kva skjer med meg", "I will do it later", "that test beats me", "it hits me that school starts",
    "doing fine, thanks", "overdrive", "jeg har lyst til å danse", "rapeseed oil",
  ]) assert.equal(isAcute(text), false, text);
});

test("a word with * matches longer words that begin with it, only at a word's start", () => {
  const m = matcher({ x: ["selvmord*"] });
  assert.ok(m("selvmordsforsøk"));
  assert.equal(m("antiselvmord"), false);
});

test("a phrase matches whole words next to each other", () => {
  const m = matcher({ x: ["kutte meg"] });
  assert.ok(m("vil kutte meg nå"));
  assert.equal(m("kutte megafon"), false);
  assert.equal(m("kutte ikke meg"), false);
});

test("every list is non-empty and its entries fold to something", () => {
  for (const [lang, list] of Object.entries({ nb, nn, en })) {
    assert.ok(list.length > 20, lang);
    for (const p of list) assert.ok(normalize(p.replace(/\*/g, "")), `${lang}: ${p}`);
  }
});
