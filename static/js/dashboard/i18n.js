// The dashboard's texts come from the page (Babel-translated data-t-* attributes on #dash), so
// the script never carries a language of its own.
const dash = () => document.getElementById("dash");
const cap = (s) => s ? s[0].toUpperCase() + s.slice(1) : s;
const camel = (s) => s.replace(/[-_]+([a-z0-9])/g, (_, ch) => ch.toUpperCase());

/** The text of data-t-<key> (key in camelCase); the key itself when the page has none. */
export function t(key) {
  return dash().dataset["t" + cap(key)] || key;
}

/** The label of a code (an outcome, a state, a flag, a returning kind) in the nurse's language:
 *  data-t-<kind>-<code>; a code the page has no label for (a service's own outcome) as it is. */
export function label(kind, code) {
  if (!code) return "";
  return dash().dataset["t" + cap(kind) + cap(camel(code))] || code;
}

/** Fill {name} placeholders. */
export function fmt(text, values) {
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
}
