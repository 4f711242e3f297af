// Bundles the browser code with esbuild (called by the Makefile). No CDN: everything comes from
// node_modules, pinned by package-lock.json.
//
// Two bundles, because the youth and the nurse need different libsodium builds:
//  - youth pages (youth, index, identity): the standard `libsodium-wrappers`, which has every
//    function the youth calls; its WebAssembly is written out as its own file (binary wasm
//    compresses ~25 % better than the base64 text it ships inlined as) and fetched on demand.
//  - staff pages (nurse, login): `libsodium-wrappers-sumo`, for crypto_pwhash (argon2id wraps the
//    nurse's device keys with her password), which the standard build does not have.
// A third, tiny one: the Web Push service worker (static/js/sw.js), a classic script that
// chat/web/webapp.py serves at /sw.js so that its scope is the whole site.
// Every output is content-hashed ("[name]-[hash]"); static/dist/manifest.json maps each entry's
// source name to its file, and chat/web/pages.py reads it once for the templates' asset().
import * as esbuild from "esbuild";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { wasmApart } from "./js/e2e/wasm-apart.mjs";

const OUT = "static/dist";
rmSync(OUT, { recursive: true, force: true }); // hashed names: old files would pile up
mkdirSync(OUT, { recursive: true });

const js = {
  bundle: true,
  splitting: true,
  format: "esm",
  target: "es2022",
  platform: "browser",
  minify: true,
  outdir: OUT,
  entryNames: "[name]-[hash]",
  chunkNames: "chunks/[name]-[hash]",
  assetNames: "assets/[name]-[hash]",
  publicPath: "/static/dist/",
  metafile: true,
  logLevel: "warning",
};

const YOUTH = ["static/js/youth.js", "static/js/index.js", "static/js/identity.js",
  "static/js/appointments.js"];
const STAFF = ["static/js/nurse.js", "static/js/login.js"];
const CSS = ["static/css/app.css"];
// The service worker: a classic script (no imports, no splitting), served at /sw.js.
const WORKER = ["static/js/sw.js"];

const youth = await esbuild.build({
  ...js,
  entryPoints: YOUTH,
  alias: { "libsodium-wrappers-sumo": "libsodium-wrappers" },
  plugins: [wasmApart],
});

const staff = await esbuild.build({
  ...js,
  entryPoints: STAFF,
  chunkNames: "chunks/staff-[name]-[hash]",
});

const worker = await esbuild.build({
  ...js,
  entryPoints: WORKER,
  splitting: false,
  format: "iife",
});

// The stylesheet: Designsystemet's CSS from node_modules with helseprat's own, one file.
const css = await esbuild.build({
  entryPoints: CSS,
  bundle: true,
  minify: true,
  target: ["chrome111", "firefox115", "safari16.4"],
  outdir: OUT,
  entryNames: "[name]-[hash]",
  metafile: true,
  logLevel: "warning",
});

/** page entry ("youth.js", "app.css") → its output file under static/dist. The metafile also
 * marks dynamically imported modules (the crypto chunk) as entry points; those are no pages. */
const assets = {};
/** page entry → what it will fetch next (its static chunks, the crypto chunk, the wasm), so the
 * page can ask for them at once instead of one round trip after another (<link rel=preload>). */
const preload = {};
const rel = (file) => file.slice(OUT.length + 1);
for (const [result, entries] of [[youth, YOUTH], [staff, STAFF], [worker, WORKER], [css, CSS]]) {
  const outputs = result.metafile.outputs;
  for (const [file, out] of Object.entries(outputs)) {
    if (!entries.includes(out.entryPoint)) continue;
    assets[basename(out.entryPoint)] = rel(file);
    // Static imports always; for the chat page also the crypto it loads after its first paint
    // (the chunk, and libsodium's wasm, which the chunk fetches rather than imports).
    const crypto = out.entryPoint === "static/js/youth.js";
    const next = new Set();
    const walk = (f, dynamic) => {
      for (const imp of outputs[f]?.imports ?? []) {
        if (imp.external || next.has(imp.path)) continue;
        if (imp.kind === "dynamic-import" && !dynamic) continue;
        next.add(imp.path);
        walk(imp.path, dynamic);
      }
    };
    walk(file, crypto);
    if (crypto) for (const f of Object.keys(outputs)) if (f.endsWith(".wasm")) next.add(f);
    if (next.size) preload[basename(out.entryPoint)] = [...next].map(rel);
  }
  for (const entry of entries) {
    if (!assets[basename(entry)]) throw new Error(`no output for ${entry}`);
  }
}
const manifest = { assets, preload };
writeFileSync(`${OUT}/manifest.json`, JSON.stringify(manifest, null, 1) + "\n");
