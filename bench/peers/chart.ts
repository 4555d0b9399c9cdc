// A hand-made SVG: one panel per workload, one horizontal bar per system, log scale (shorter is
// faster), with the value printed beside each bar.

const COLORS = ["#6d28d9", "#ef4444", "#10b981", "#f59e0b", "#3b82f6", "#64748b", "#a3a3a3"];

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function label(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function chart(
  systems: readonly string[],
  panels: readonly { title: string; values: readonly (number | undefined)[] }[],
  caption: string,
): string {
  const bar = 14;
  const gap = 4;
  const panelHeight = 28 + systems.length * (bar + gap);
  const width = 760;
  const left = 130;
  const right = 90;
  const top = 56;
  const height = top + panels.length * panelHeight + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="600">Kalphite and its peers (log scale, shorter is better)</text>`,
  ];
  systems.forEach((system, i) => {
    const x = 12 + i * 105;
    out.push(`<rect x="${x}" y="34" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`);
    out.push(`<text x="${x + 14}" y="43">${escapeXml(system)}</text>`);
  });
  panels.forEach((panel, p) => {
    const y0 = top + p * panelHeight;
    out.push(`<text x="12" y="${y0 + 16}" font-weight="600">${escapeXml(panel.title)}</text>`);
    const present = panel.values.filter((v): v is number => v !== undefined && v > 0);
    const max = Math.log10(Math.max(...present, 1e-3));
    const min = Math.log10(Math.min(...present, 1)) - 0.5;
    const span = Math.max(max - min, 1e-6);
    panel.values.forEach((value, i) => {
      const y = y0 + 24 + i * (bar + gap);
      out.push(
        `<text x="${left - 6}" y="${y + bar - 3}" text-anchor="end" fill="#444">${escapeXml(systems[i]!)}</text>`,
      );
      if (value === undefined || value <= 0) {
        out.push(`<text x="${left}" y="${y + bar - 3}" fill="#999">—</text>`);
        return;
      }
      const w = Math.max(2, ((Math.log10(value) - min) / span) * (width - left - right));
      out.push(
        `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${COLORS[i % COLORS.length]}"/>`,
      );
      out.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + bar - 3}">${label(value)}</text>`);
    });
  });
  out.push(`<text x="12" y="${height - 10}" fill="#666">${escapeXml(caption)}</text>`);
  out.push("</svg>");
  return out.join("\n");
}
