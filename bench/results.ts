import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

const RESULTS = fileURLToPath(new URL("./RESULTS.md", import.meta.url));

/** One line naming the machine and the date, to head every section of figures. */
export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const memory = Math.round(totalmem() / 2 ** 30);
  return `Measured ${new Date().toISOString()} on ${cpus().length} × ${cpu}, ${memory} GiB, Node ${process.version}.`;
}

/**
 * Replaces (or appends) the section `name` of bench/RESULTS.md with `markdown`, so each benchmark
 * rewrites its own figures and leaves the others'.
 */
export function writeResults(name: string, markdown: string): void {
  const begin = `<!-- begin ${name} -->`;
  const end = `<!-- end ${name} -->`;
  let text: string;
  try {
    text = readFileSync(RESULTS, "utf8");
  } catch {
    text =
      "# Benchmark results\n\nWritten by `npm run bench` and `npm run bench:peers`; each section by its own benchmark.\n";
  }
  const block = `${begin}\n${markdown.trim()}\n\n${machineLine()}\n${end}`;
  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  text =
    start >= 0 && stop > start
      ? text.slice(0, start) + block + text.slice(stop + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(RESULTS, text);
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The p-th percentile (0..100) of some numbers. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
