// Node resolve hook for a packaging bug in libsodium-wrappers-sumo 0.7.16
// (jedisct1/libsodium.js#355, #360, #386): its ESM entry imports "./libsodium-sumo.mjs",
// which lives in the sibling package libsodium-sumo, not next to it. Redirect that one
// specifier to the real file; everything else resolves normally.
export async function resolve(specifier, context, nextResolve) {
  if (specifier === "./libsodium-sumo.mjs"
      && context.parentURL?.includes("/libsodium-wrappers-sumo/")) {
    return nextResolve("libsodium-sumo", context);
  }
  return nextResolve(specifier, context);
}
