// Words that signal acute danger (suicide, self-harm, violence or abuse now), checked while the
// youth types, in this browser only: this module sends nothing, stores nothing, logs nothing.
// The word lists are data, one file per language (static/js/acute/*.js); every list is checked
// whatever the page's language, since a youth writes in the language she likes.
//
// A list entry is a phrase of words; a word ending in "*" also matches longer words that begin
// with it ("selvmord*" matches "selvmordstanker"). Text and phrases are folded the same way:
// lower case, no diacritics (ø → o, æ → ae, å → a, é → e), anything that is not a letter or a
// digit is a space. A phrase matches whole words, in order, next to each other.
import nb from "./acute/nb.js";
import nn from "./acute/nn.js";
import en from "./acute/en.js";

const FOLD = { "ø": "o", "æ": "ae", "ß": "ss", "đ": "d", "ł": "l", "œ": "oe" };

/** Lower case, diacritics off, words separated by single spaces. */
export function normalize(text) {
  return String(text || "")
    .toLowerCase()
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .replace(/[øæßđłœ]/g, (c) => FOLD[c])
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** One phrase as a regular expression over normalised text. */
function compile(phrase) {
  const words = phrase.trim().split(/\s+/).map((w) => {
    const prefix = w.endsWith("*");
    const core = normalize(prefix ? w.slice(0, -1) : w);
    return escape(core).replace(/ /g, " ") + (prefix ? "[\\p{L}\\p{N}]*" : "");
  });
  return new RegExp("(?:^| )" + words.join(" ") + "(?= |$)", "u");
}

/** A matcher for the given lists ({lang: [phrases]}); the default uses every language's. */
export function matcher(lists = { nb, nn, en }) {
  const patterns = [];
  for (const phrases of Object.values(lists)) {
    for (const p of phrases) if (normalize(p.replace(/\*/g, ""))) patterns.push(compile(p));
  }
  return (text) => {
    const folded = normalize(text);
    return folded !== "" && patterns.some((re) => re.test(folded));
  };
}

/** True when the text has a word or phrase that signals acute danger. */
export const isAcute = matcher();
