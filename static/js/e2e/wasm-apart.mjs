// esbuild plugin: libsodium's WebAssembly as a file of its own instead of base64 in the JS.
//
// libsodium.js ships its wasm as one base64 string literal inside the emscripten glue. Served
// like that, the youth downloads ~130 KB (gzip) of text; the same bytes as a .wasm file are
// ~99 KB, and ~68 KB once the functions the youth never calls are gone (ML-KEM, X-Wing, SHA-3,
// AEGIS, secretstream …). The plugin (1) drops the literal from the glue, (2) removes from the
// wasm the exports outside KEEP and, with binaryen, the code only they reached, (3) emits the
// bytes as a content-hashed asset (esbuild's file loader), and (4) puts a small factory in
// front of the glue that fetches that asset and hands it to emscripten's `instantiateWasm`
// hook, so the glue never looks for the string. The wrappers call the factory as before and
// leave out every function whose export is missing (libsodium-wrappers checks each one).
// The build fails if the glue no longer has exactly one such literal (a new libsodium layout).
// A youth page that starts calling another libsodium function must widen KEEP.
import { readFile } from "node:fs/promises";
import binaryen from "binaryen";

// What the youth's code (static/js/e2e/*, through youth.js, teamview.js, youth_identity.js)
// calls, by family, plus libsodium's own helpers (init, malloc, pad, encodings) and secretbox,
// which libsodium-wrappers' start-up self-test uses.
const KEEP = new RegExp("^(crypto_(box_(?!curve25519xchacha20poly1305)|sign_|generichash"
  + "|aead_xchacha20poly1305_ietf_|scalarmult|secretbox_)|randombytes_|sodium_|malloc$|free$)");
const NEEDED = ["crypto_box_seal", "crypto_box_seal_open", "crypto_box_easy", "crypto_box_seed_keypair",
  "crypto_sign_seed_keypair", "crypto_sign_detached", "crypto_sign_verify_detached",
  "crypto_generichash", "crypto_aead_xchacha20poly1305_ietf_encrypt",
  "crypto_aead_xchacha20poly1305_ietf_decrypt", "crypto_scalarmult_base", "randombytes_buf",
  "sodium_pad", "sodium_unpad", "sodium_init", "malloc", "free",
  "crypto_secretbox_easy", "crypto_secretbox_open_easy"];
// The glue binds each export once: `g._crypto_box_seal=A.Xy` (C name → minified wasm name).
const BINDING = /\b[A-Za-z_$][\w$]*\._([a-z0-9_]+)=[A-Za-z_$][\w$]*\.([A-Za-z_$][\w$]*)/g;

const GLUE = /[\\/]libsodium[\\/]dist[\\/]modules-esm[\\/]libsodium\.mjs$/;
const BASE64 = /"([A-Za-z0-9+/]{100000,}={0,2})"/g;

/** @type {import("esbuild").Plugin} */
export const wasmApart = {
  name: "libsodium-wasm-apart",
  setup(build) {
    // The wrappers' `import … from "libsodium"` gets the fetching factory; the factory itself
    // imports the real (stripped) glue through the "glue" namespace.
    build.onResolve({ filter: /^libsodium$/ }, async (args) => {
      if (args.namespace === "libsodium-apart") return undefined;
      const real = await build.resolve("libsodium", { kind: args.kind, resolveDir: args.resolveDir,
                                                      namespace: "libsodium-apart" });
      if (real.errors.length) return { errors: real.errors };
      return { path: real.path, namespace: "libsodium-apart" };
    });
    build.onResolve({ filter: /^glue:/, namespace: "libsodium-apart" }, (args) => (
      { path: args.path.slice(5), namespace: "libsodium-glue" }));
    build.onResolve({ filter: /^wasm:/, namespace: "libsodium-apart" }, (args) => (
      { path: args.path.slice(5), namespace: "libsodium-wasm" }));

    build.onLoad({ filter: /.*/, namespace: "libsodium-apart" }, (args) => {
      if (!GLUE.test(args.path)) return { errors: [{ text: `unexpected libsodium entry ${args.path}` }] };
      return { resolveDir: process.cwd(), loader: "js", contents: FACTORY
        .replace("GLUE", JSON.stringify("glue:" + args.path))
        .replace("WASM", JSON.stringify("wasm:" + args.path.replace(/\.mjs$/, ".wasm"))) };
    });
    build.onLoad({ filter: /.*/, namespace: "libsodium-glue" }, async (args) => {
      const [text] = await split(args.path);
      return { contents: text, loader: "js" };
    });
    build.onLoad({ filter: /.*/, namespace: "libsodium-wasm" }, async (args) => {
      const [, bytes] = await split(args.path.replace(/\.wasm$/, ".mjs"));
      return { contents: bytes, loader: "file" };
    });
  },
};

const splits = new Map();

/** @param {string} path @returns {Promise<[string, Uint8Array]>} glue without the literal, wasm */
function split(path) {
  if (!splits.has(path)) splits.set(path, splitOnce(path));
  return splits.get(path);
}

async function splitOnce(path) {
  const text = await readFile(path, "utf8");
  const found = [...text.matchAll(BASE64)];
  if (found.length !== 1) throw new Error(`${path}: expected one inlined wasm, found ${found.length}`);
  const bytes = Buffer.from(found[0][1], "base64");
  if (bytes.readUInt32LE(0) !== 0x6d736100) throw new Error(`${path}: the literal is not WebAssembly`);
  return [text.replace(found[0][0], '""'), prune(bytes, text, path)];
}

/** The wasm without the exports outside KEEP and the code only they reached. */
function prune(bytes, glue, path) {
  const exports = new Map([...glue.matchAll(BINDING)].map((m) => [m[1], m[2]]));
  const missing = NEEDED.filter((name) => !exports.has(name) || !KEEP.test(name));
  if (missing.length) throw new Error(`${path}: cannot keep ${missing.join(", ")}`);
  const mod = binaryen.readBinary(bytes);
  try {
    // What emscripten's output uses, and nothing newer: binaryen would otherwise write its
    // output with encodings (compact imports) that browsers do not read yet.
    const F = binaryen.Features;
    mod.setFeatures(F.MVP | F.MutableGlobals | F.NontrappingFPToInt | F.BulkMemory | F.BulkMemoryOpt
                    | F.SignExt | F.Multivalue | F.ReferenceTypes);
    for (const [name, wasmName] of exports) if (!KEEP.test(name)) mod.removeExport(wasmName);
    mod.runPasses(["remove-unused-module-elements"]);
    if (!mod.validate()) throw new Error(`${path}: pruned wasm does not validate`);
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

// Emscripten calls instantiateWasm(imports, done) and waits for done(instance, module); its own
// promise has no way to fail from there, so this one wraps it and rejects on a failed fetch or
// compile (the page then says the chat could not load instead of waiting for ever).
const FACTORY = `
import glue from GLUE;
import wasmUrl from WASM;

export default function libsodium(options) {
  return new Promise((resolve, reject) => {
    const bytes = fetch(wasmUrl, { credentials: "same-origin" }).then((r) => {
      if (!r.ok) throw new Error("libsodium wasm: HTTP " + r.status);
      return r.arrayBuffer();
    });
    bytes.then(() => glue({
      ...options,
      instantiateWasm(imports, done) {
        bytes.then((b) => WebAssembly.instantiate(b, imports))
          .then((r) => done(r.instance, r.module), reject);
        return {};
      },
    })).then(resolve, reject);
  });
}
`;
