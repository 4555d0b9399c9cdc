import { build } from "esbuild";
import { gzipSync } from "node:zlib";
const entry = process.argv[2] ?? "dist/index.js";
const r = await build({ entryPoints: [entry], bundle: true, minify: true, format: "esm", platform: "browser", write: false, metafile: true, external: ["@preact/signals-core"] });
console.log("total", gzipSync(r.outputFiles[0].contents).length, "gz", r.outputFiles[0].contents.length, "min");
const out = Object.values(r.metafile.outputs)[0];
for (const [f, v] of Object.entries(out.inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)) console.log(String(v.bytesInOutput).padStart(6), f);
