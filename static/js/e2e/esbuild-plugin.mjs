// esbuild plugin (and a tiny CLI) for a packaging bug in libsodium-wrappers-sumo 0.7.16
// (jedisct1/libsodium.js#355/#360/#386): its ESM entry imports "./libsodium-sumo.mjs", a file
// that ships in the sibling package libsodium-sumo. Resolve that one import to the real file.
// Drop this once package.json moves to libsodium-wrappers-sumo >= 0.8.
//
// CLI: node static/js/e2e/esbuild-plugin.mjs <outfile>   (bundles static/js/e2e/index.js)
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** @type {import("esbuild").Plugin} */
export const sodiumEsmFix = {
  name: "libsodium-sumo-esm-fix",
  setup(build) {
    build.onResolve({ filter: /^\.\/libsodium-sumo\.mjs$/ }, async (args) => {
      if (!args.importer.includes("libsodium-wrappers-sumo")) return undefined;
      const r = await build.resolve("libsodium-sumo", { kind: "import-statement", resolveDir: args.resolveDir });
      return { path: r.path };
    });
  },
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const require = createRequire(import.meta.url);
  const esbuild = require("esbuild");
  const outfile = process.argv[2] ?? "static/dist/e2e.js";
  await esbuild.build({
    entryPoints: [fileURLToPath(new URL("./index.js", import.meta.url))],
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    outfile,
    plugins: [sodiumEsmFix],
    logLevel: "warning",
  });
}
