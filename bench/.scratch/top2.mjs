import { readFileSync, statSync } from "node:fs";
const p = JSON.parse(readFileSync(process.argv[2],"utf8"));
const byId = new Map(p.nodes.map(n=>[n.id,n]));
const self = new Map(); let total=0;
for (let i=0;i<p.samples.length;i++){ const n=byId.get(p.samples[i]); const k=`${n.callFrame.functionName||"(anon)"} ${n.callFrame.url.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber}`; self.set(k,(self.get(k)??0)+p.timeDeltas[i]); total+=p.timeDeltas[i]; }
console.log("total ms", (total/1000).toFixed(0));
let wasm=0; for (const [k,t] of self) if (k.startsWith("wasm-function")) wasm+=t; console.log("wasm", (wasm/1000).toFixed(0));
for (const [k,t] of [...self].sort((a,b)=>b[1]-a[1]).filter(([k])=>!k.startsWith("wasm-function")).slice(0,+process.argv[3]||25)) console.log((t/1000).toFixed(0).padStart(7), k);
