// Runs the operator workloads (ties, window, join, counts) on one system, in this process, and
// prints one JSON line of results. Usage: node --expose-gc --import tsx bench/peers/operators/child.ts <system> [N] [quick]
import { legendOperators, mobxOperators } from "./computeds.js";
import { kalphiteOperators } from "./kalphite.js";
import { checkOperators, measureOperators } from "./measure.js";
import { tanstackOperators } from "./tanstack.js";
import { tinybaseOperators } from "./tinybase.js";
import type { OperatorSystem } from "./workload.js";

/** Every system with the operator workloads, by the name run.ts uses. */
const operatorSystems: Record<string, () => OperatorSystem> = {
  kalphite: kalphiteOperators,
  tanstack: tanstackOperators,
  tinybase: tinybaseOperators,
  legend: legendOperators,
  mobx: mobxOperators,
};

const name = process.argv[2] ?? "kalphite";
const n = Number(process.argv[3] ?? 100_000);
const quick = process.argv[4] === "quick";
const make = operatorSystems[name];
if (!make)
  throw new Error(
    `No operator workloads for ${name}; one of ${Object.keys(operatorSystems).join(", ")}`,
  );
const system = make();
const log = (line: string) => process.stderr.write(`  ${system.name}: ${line}\n`);
await checkOperators(system);
log("operators correct on the 3,000-comment check");
const result = await measureOperators(
  system,
  n,
  log,
  quick ? { warmupMs: 100, budgetMs: 300 } : { warmupMs: 300, budgetMs: 1500 },
);
console.log(JSON.stringify(result));
