// Message bodies as they travel: opaque base64. This module is the one place that turns text
// into a body and back; the end-to-end encryption layer plugs in here.

export function textToBody(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function bodyToText(body) {
  const bin = atob(body);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}
