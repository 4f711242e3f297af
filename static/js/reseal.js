// Nurse side of a logged-in youth's new device (identity bridge). The server attests that the
// device belongs to the ID-porten person linked to the thread and announces it with a
// `device_pending` frame; a team member's browser then seals CK to the device — or does not.
// This step is where a device added by a compromised server becomes visible (docs/crypto.md).
//
// Hook for nurse.js (one line in its frame switch, with the conversation's CK and the team's
// current statement at hand):
//   case "device_pending": reseal.onDevicePending(f, { ck, statement, send: (x) => socket.send(x) }); break;
// and, so messages signed by the new device verify:
//   case "device_ready": c.session = reseal.onDeviceReady(f, c.session, teamKeys); break;
import * as e2e from "./e2e/index.js";

/**
 * Seal CK to the device and send the `reseal` frame. Returns the frame sent.
 * @param {{conversation: string, device: string, box: string, sign: string}} f device_pending
 * @param {{ck: Uint8Array, statement?: any, send: (frame: object) => unknown}} ctx
 */
export function onDevicePending(f, ctx) {
  const sealed = e2e.sealConversationKey(ctx.ck, f.conversation, e2e.b64decode(f.box));
  const frame = { type: "reseal", conversation: f.conversation, device: f.device,
                  sealed_ck: e2e.b64encode(sealed) };
  if (ctx.statement) {
    // A key bundle naming the device's signing key, sealed to the team: other members learn
    // the new sender from a team member's statement, not from the server.
    frame.key_bundle = e2e.b64encode(e2e.encodeKeyBundle(
      e2e.makeKeyBundle(ctx.ck, e2e.b64decode(f.sign), ctx.statement)));
  }
  ctx.send(frame);
  return frame;
}

/**
 * A device got CK: add its signing key to the conversation's senders. With the team keys
 * (epoch -> TeamKey) the key comes from the member-made bundle; else from the frame.
 * @returns the new session
 */
export function onDeviceReady(f, session, teamKeys) {
  let key = e2e.b64decode(f.sign);
  if (f.key_bundle && teamKeys) {
    const opened = e2e.openKeyBundleWith(e2e.decodeKeyBundle(e2e.b64decode(f.key_bundle)), teamKeys);
    key = opened.youthSignPublicKey;
  }
  return e2e.withSenders(session, [key]);
}
