// Bundles the browser code with esbuild (called by the Makefile). One shared chunk holds
// libsodium, so the youth and nurse pages cache it once. No CDN: everything comes from
// node_modules, pinned by package-lock.json.
import * as esbuild from "esbuild";
import { sodiumEsmFix } from "./js/e2e/esbuild-plugin.mjs";

await esbuild.build({
  entryPoints: ["static/js/youth.js", "static/js/nurse.js", "static/js/index.js", "static/js/login.js",
                "static/js/identity.js"],
  bundle: true,
  splitting: true,
  format: "esm",
  target: "es2022",
  platform: "browser",
  minify: true,
  outdir: "static/dist",
  chunkNames: "chunks/[name]-[hash]",
  plugins: [sodiumEsmFix],
  logLevel: "warning",
});
