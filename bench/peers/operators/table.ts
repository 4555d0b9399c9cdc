// The operators table of the peers section: one column per operator workload, ratios to Kalphite.
import type { PeerResult } from "../child.js";
import { legendOperators, mobxOperators } from "./computeds.js";
import { kalphiteOperators } from "./kalphite.js";
import type { OperatorResult } from "./measure.js";
import { tanstackOperators } from "./tanstack.js";
import { tinybaseOperators } from "./tinybase.js";

const SYSTEMS = {
  kalphite: kalphiteOperators,
  tanstack: tanstackOperators,
  tinybase: tinybaseOperators,
  legend: legendOperators,
  mobx: mobxOperators,
} as const;

/** How each system runs the operator workloads, for RESULTS.md. */
export function operatorApis(results: readonly PeerResult[]): string {
  return results
    .filter((r) => r.operators !== undefined && r.key !== undefined && r.key in SYSTEMS)
    .map((r) => `- **${r.system}**: ${SYSTEMS[r.key as keyof typeof SYSTEMS]().api}.`)
    .join("\n");
}

/** A column of the peers tables: a figure of each system. */
export interface Column {
  title: string;
  unit: string;
  value: (r: PeerResult) => number | undefined;
}

/** One system's cell of a column: the figure, with its ratio to Kalphite's (Kalphite's in bold). */
export function ratioCell(
  c: Column,
  r: PeerResult,
  kalphite: PeerResult | undefined,
  format: (value: number) => string,
): string {
  const v = c.value(r);
  if (v === undefined) return "—";
  const base = kalphite ? c.value(kalphite) : undefined;
  if (r === kalphite || base === undefined || base <= 0) return `**${format(v)}**`;
  return `${format(v)} (${format(v / base)}×)`;
}

/** Where one of `peers` has a lower figure than Kalphite: one phrase each. */
export function peersAhead(
  columns: readonly Column[],
  peers: readonly PeerResult[],
  kalphite: PeerResult | undefined,
  format: (value: number) => string,
): string[] {
  if (!kalphite) return [];
  return columns.flatMap((c) => {
    const own = c.value(kalphite);
    if (own === undefined) return [];
    return peers
      .filter((r) => r !== kalphite && (c.value(r) ?? Number.POSITIVE_INFINITY) < own)
      .map(
        (r) =>
          `${c.title}: ${r.system} ${format(c.value(r)!)} ${c.unit} against Kalphite's ${format(own)} ${c.unit}`,
      );
  });
}

const of =
  (key: keyof OperatorResult) =>
  (r: PeerResult): number | undefined =>
    r.operators?.[key];

export const operatorColumns: Column[] = [
  { title: "ties: subscribe 10", unit: "ms", value: of("tieSubscribeMs") },
  { title: "ties: update + read, limit 50", unit: "µs", value: of("tieLimitMicros") },
  { title: "ties: update + read, no limit", unit: "µs", value: of("tieFullMicros") },
  { title: "window: move + read", unit: "µs", value: of("windowMoveMicros") },
  { title: "window: update inside + read", unit: "µs", value: of("windowUpdateMicros") },
  { title: "join: update comment + read", unit: "µs", value: of("joinCommentMicros") },
  { title: "join: update review + read", unit: "µs", value: of("joinReviewMicros") },
  { title: "counts: move between groups + read", unit: "µs", value: of("countsMicros") },
];

/** The markdown table, and a sentence on where a peer is ahead (if anywhere). */
export function operatorTable(
  results: readonly PeerResult[],
  kalphite: PeerResult | undefined,
  format: (value: number) => string,
): string {
  const rows = results.filter((r) => r.operators !== undefined);
  if (rows.length === 0) return "No operator figures in this run.";
  const header = `| system | ${operatorColumns.map((c) => `${c.title} (${c.unit})`).join(" | ")} |`;
  const rule = `|---|${operatorColumns.map(() => "---:").join("|")}|`;
  const lines = rows.map((r) => {
    const cells = operatorColumns.map((c) => ratioCell(c, r, kalphite, format));
    return `| ${r.system} | ${cells.join(" | ")} |`;
  });
  const behind = peersAhead(operatorColumns, rows, kalphite, format);
  const verdict =
    behind.length === 0
      ? "In this run Kalphite is ahead of every peer on every operator workload."
      : `In this run a peer is ahead on: ${behind.join("; ")}.`;
  return `${header}\n${rule}\n${lines.join("\n")}\n\n${verdict}`;
}
