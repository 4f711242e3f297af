// One error hierarchy with stable codes, identical to chat/crypto/errors.py.

export class E2EError extends Error {
  /** @param {string} [message] */
  constructor(message) {
    super(message || "e2e_error");
    this.name = new.target.name;
    /** @type {string} */
    this.code = /** @type {any} */ (new.target).code;
  }
}
E2EError.code = "e2e_error";

/** @param {string} name @param {string} code @returns {typeof E2EError} */
function sub(name, code) {
  const cls = { [name]: class extends E2EError {} }[name];
  cls.code = code;
  return cls;
}

export const BadEnvelope = sub("BadEnvelope", "e2e_bad_envelope");
export const BadSignature = sub("BadSignature", "e2e_bad_signature");
export const DecryptFailed = sub("DecryptFailed", "e2e_decrypt");
export const Replay = sub("Replay", "e2e_replay");
export const UnknownSender = sub("UnknownSender", "e2e_unknown_sender");
export const StaleEpoch = sub("StaleEpoch", "e2e_stale_epoch");
export const UnknownEpoch = sub("UnknownEpoch", "e2e_unknown_epoch");
export const WrongPassword = sub("WrongPassword", "e2e_wrong_password");
export const TooLarge = sub("TooLarge", "e2e_too_large");
export const KeyMismatch = sub("KeyMismatch", "e2e_key_mismatch");
