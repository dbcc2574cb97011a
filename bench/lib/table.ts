/** Formatting of measurements and Markdown tables. Pure. */
import type { Summary } from "./stats";

export type Align = "left" | "right";

export interface Column {
  readonly header: string;
  /** @default "left" */
  readonly align?: Align;
}

/** A GitHub-flavoured Markdown table, columns padded so the source reads as a table too. */
export function markdownTable(columns: readonly Column[], rows: ReadonlyArray<readonly string[]>): string {
  for (const [i, row] of rows.entries()) {
    if (row.length !== columns.length) {
      throw new Error(`markdownTable: row ${i} has ${row.length} cells, expected ${columns.length}`);
    }
  }
  const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
  const body = rows.map((row) => row.map(cell));
  const widths = columns.map((c, i) => Math.max(3, cell(c.header).length, ...body.map((r) => r[i].length)));
  const pad = (text: string, i: number): string => (columns[i].align === "right" ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const line = (cells: readonly string[]): string => `| ${cells.map(pad).join(" | ")} |`;
  const rule = columns.map((c, i) => (c.align === "right" ? `${"-".repeat(widths[i] - 1)}:` : "-".repeat(widths[i])));
  return `${[line(columns.map((c) => cell(c.header))), `| ${rule.join(" | ")} |`, ...body.map(line)].join("\n")}\n`;
}

/** Milliseconds as seconds: 3 significant digits below 10 s ("0.443 s", "2.10 s"), one decimal above. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  if (s >= 10) return `${s.toFixed(1)} s`;
  if (s >= 1) return `${s.toFixed(2)} s`;
  return `${s.toFixed(3)} s`;
}

/** Milliseconds as milliseconds, for small per-unit costs: "12.3 ms". */
export function formatMs(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

/** Kibibytes (what GNU time and /proc report) as MiB: "158 MiB". */
export function formatMiB(kib: number): string {
  const mib = kib / 1024;
  return mib >= 100 ? `${mib.toFixed(0)} MiB` : `${mib.toFixed(1)} MiB`;
}

/** Bytes (file sizes) as MiB, like formatMiB: "412 MiB", "58.6 MiB". */
export function formatBytes(bytes: number): string {
  return formatMiB(bytes / 1024);
}

/** "median (min–max)" with the given unit formatter; only the median when there is one value. */
export function formatSummary(s: Summary, unit: (v: number) => string): string {
  if (s.n === 1) return unit(s.median);
  return `${unit(s.median)} (${unit(s.min)}–${unit(s.max)})`;
}

/** A ratio: three decimals below 0.1 ("0.046x"), two above ("0.12x"); "n/a" when there is none. */
export function formatRatio(r: number | undefined): string {
  if (r === undefined) return "n/a";
  return `${r.toFixed(r < 0.1 ? 3 : 2)}x`;
}

/** "met" / "MISSED" against an upper bound (inclusive: "at most"). */
export function verdict(value: number | undefined, limit: number): string {
  if (value === undefined) return "not measured";
  return value <= limit ? "met" : "MISSED";
}
