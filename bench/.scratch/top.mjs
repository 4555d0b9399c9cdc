import { readFileSync, readdirSync } from "node:fs";
const dir = process.argv[2];
const f = readdirSync(dir).filter(x=>x.endsWith(".cpuprofile")).map(x=>dir+"/"+x)[0];
const p = JSON.parse(readFileSync(f,"utf8"));
const byId = new Map(p.nodes.map(n=>[n.id,n]));
const self = new Map();
const dt = p.timeDeltas; const total = dt.reduce((a,b)=>a+b,0);
const counts = new Map();
for (let i=0;i<p.samples.length;i++){ counts.set(p.samples[i],(counts.get(p.samples[i])??0)+dt[i]); }
for (const [id,t] of counts){ const n=byId.get(id); const k=`${n.callFrame.functionName||"(anon)"} ${n.callFrame.url.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber}`; self.set(k,(self.get(k)??0)+t); }
console.log("total ms", (total/1000).toFixed(0));
for (const [k,t] of [...self].sort((a,b)=>b[1]-a[1]).slice(0,+process.argv[3]||30)) console.log((t/1000).toFixed(1).padStart(8), k);
