import { readFileSync, readdirSync } from "node:fs";
const dir = process.argv[2];
const f = readdirSync(dir).filter(x=>x.endsWith(".cpuprofile")).map(x=>dir+"/"+x)[0];
const p = JSON.parse(readFileSync(f,"utf8"));
const byId = new Map(p.nodes.map(n=>[n.id,n]));
const cat = new Map(); const dt=p.timeDeltas;
for (let i=0;i<p.samples.length;i++){ const n=byId.get(p.samples[i]); const u=n.callFrame.url; let c;
 if (u.includes("wasm")) c="wasm"; else if (n.callFrame.functionName.startsWith("(")) c=n.callFrame.functionName; else if (u.includes("/src/")) c=u.split("/src/")[1].split("/")[0]+"/"+u.split("/").pop(); else if (u.includes("pglite")) c="pglite-js"; else if (u.startsWith("node:")) c="node:"+n.callFrame.functionName; else c="other";
 cat.set(c,(cat.get(c)??0)+dt[i]); }
for (const [k,t] of [...cat].sort((a,b)=>b[1]-a[1]).slice(0,30)) console.log((t/1000).toFixed(0).padStart(7), k);
