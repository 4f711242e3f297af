// The identity bridge, browser side, for the youth: start an ID-porten login, confirm the
// session in the tab that started it, prove possession of the conversation to link it, and
// get the conversation key on a new device once a team member has re-sealed it.
// Used by youth.js (the chat page) and identity.js (consent and "Mine samtaler" pages).
// Crypto through the lazy binding (e2e/lazy.js): only youth.js's code after the page is ready
// calls the functions that use it; identity.js's pages never load crypto at all.
import { e2e } from "./e2e/lazy.js";

export const LOGIN = "helseprat.login"; // sessionStorage: {binding, kind, conversation}
export const DEVICE = "helseprat.device"; // sessionStorage: {conversation: {box, seed}}
const LINK_DOMAIN = "helseprat/link-proof/v1";

async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  let data = null;
  try { data = await r.json(); } catch { /* empty body */ }
  if (!r.ok) {
    const err = new Error("request failed");
    err.code = (data && data.error && data.error.code) || "http_" + r.status;
    throw err;
  }
  return data;
}

/** Right after start: the server keeps the conversation's youth signing key for the proof. */
export function registerYouthKey(saved, signPkB64) {
  api("POST", "/api/youth/key", { conversation: saved.conversation, token: saved.token, sign_pk: signPkB64 })
    .catch(() => { /* the link step registers it if this failed */ });
}

/** Begin an ID-porten login; the binding stays in this tab only. */
export async function startLogin(kind, saved, lang) {
  const body = { kind, lang };
  if (kind === "upgrade") { body.conversation = saved.conversation; body.token = saved.token; }
  const r = await api("POST", "/login/idporten/start", body);
  sessionStorage.setItem(LOGIN, JSON.stringify({ binding: r.binding, kind,
    conversation: kind === "upgrade" ? saved.conversation : "" }));
  location.assign(r.authorize_url);
}

/** Back from ID-porten (?login=1): the marker this tab left, once. */
export function takeLoginMarker() {
  const params = new URLSearchParams(location.search);
  if (params.get("login") !== "1") return null;
  params.delete("login");
  history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
  let marker = null;
  try { marker = JSON.parse(sessionStorage.getItem(LOGIN) || "null"); } catch { /* */ }
  sessionStorage.removeItem(LOGIN);
  return marker;
}

export function confirmSession(marker) {
  return api("POST", "/api/youth/session/confirm", { binding: marker.binding });
}

function u16(n) { return new Uint8Array([n >> 8, n & 255]); }

/** domain ‖ challenge[32] ‖ u16 len ‖ conversation id ‖ u16 len ‖ login session id */
export function linkMessage(challenge, conversation, loginSession) {
  const c = e2e.utf8Encode(conversation);
  const s = e2e.utf8Encode(loginSession);
  const parts = [e2e.utf8Encode(LINK_DOMAIN), challenge, u16(c.length), c, u16(s.length), s];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) { out.set(p, i); i += p.length; }
  return out;
}

/** Confirm the session, then prove possession: token + signature over a fresh challenge. */
export async function confirmAndLink(marker, saved, me) {
  await confirmSession(marker);
  const ch = await api("POST", "/api/youth/link/challenge");
  const sig = e2e.signDetached(linkMessage(e2e.b64decode(ch.challenge), saved.conversation, ch.login_session), me.secretKey);
  return api("POST", "/api/youth/link", { conversation: saved.conversation, token: saved.token,
    signature: e2e.b64encode(sig), sign_pk: e2e.b64encode(me.publicKey) });
}

export function forgetDevice() {
  try { sessionStorage.removeItem(DEVICE); sessionStorage.removeItem(LOGIN); } catch { /* */ }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A new device of a logged-in youth: make keys, register, wait for a team member's re-seal. */
export async function deviceKeyFor(conversation) {
  let all = {};
  try { all = JSON.parse(sessionStorage.getItem(DEVICE) || "{}"); } catch { /* */ }
  if (!all[conversation]) {
    const k = e2e.deviceKeys();
    all[conversation] = { box: e2e.b64encode(k.box.secretKey), seed: e2e.b64encode(k.sign.seed) };
    sessionStorage.setItem(DEVICE, JSON.stringify(all));
  }
  const box = e2e.boxKeypairFromSecret(e2e.b64decode(all[conversation].box));
  const sign = e2e.signKeypair(e2e.b64decode(all[conversation].seed));
  const reg = await api("POST", "/api/youth/device", { conversation, box: e2e.b64encode(box.publicKey),
    sign: e2e.b64encode(sign.publicKey) });
  for (;;) {
    const st = await api("GET", `/api/youth/device?conversation=${encodeURIComponent(conversation)}&device=${reg.device}`);
    if (st.status === "ready") {
      const ck = e2e.openConversationKey(e2e.b64decode(st.sealed_ck), conversation, box);
      return { ck: e2e.b64encode(ck), seed: all[conversation].seed, epoch: st.epoch, youthKeys: st.youth_keys };
    }
    await sleep(1500);
  }
}

/** RP-initiated logout: the server ends the session and answers where to go (ID-porten's
 * end_session with id_token_hint). A form POST could not follow that redirect under our CSP. */
export async function logout(lang) {
  forgetDevice();
  let url = "/mine?lang=" + encodeURIComponent(lang) + "&logged_out=1";
  try { url = (await api("POST", "/logout/idporten", { lang })).url; } catch { /* local only */ }
  location.assign(url);
}
