// self time of functions in samples after the last sample of a function named by argv[3] (the seed) 
import { readFileSync, readdirSync } from "node:fs";
const dir = process.argv[2];
const f = readdirSync(dir).filter(x=>x.endsWith(".cpuprofile")).map(x=>dir+"/"+x)[0];
const p = JSON.parse(readFileSync(f,"utf8"));
const byId = new Map(p.nodes.map(n=>[n.id,n]));
const parent = new Map(); for (const n of p.nodes) for (const c of n.children??[]) parent.set(c, n.id);
const hasAncestor = (id, name) => { for (let x=id; x!==undefined; x=parent.get(x)) if (byId.get(x).callFrame.functionName===name) return true; return false; };
const self = new Map(); let total=0;
for (let i=0;i<p.samples.length;i++){ const id=p.samples[i]; if(!hasAncestor(id, process.argv[3])) continue; const n=byId.get(id); const k=`${n.callFrame.functionName||"(anon)"} ${n.callFrame.url.split("/").slice(-1)}:${n.callFrame.lineNumber}`; self.set(k,(self.get(k)??0)+p.timeDeltas[i]); total+=p.timeDeltas[i]; }
console.log("total ms", (total/1000).toFixed(1));
for (const [k,t] of [...self].sort((a,b)=>b[1]-a[1]).slice(0,40)) console.log((t/1000).toFixed(2).padStart(8), k);
