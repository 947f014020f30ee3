/**
 * Order statistics for the bench tables: median and p99 by the nearest-rank method (no
 * interpolation, so a p99 is always a value that was really measured), plus the ratio
 * formatting used in every table.
 * @module
 */

/** Summary of one sample set. */
export interface Summary {
  n: number;
  median: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile (0 < p <= 100) of an ascending array. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Summarises `xs` (any order); NaN fields when empty. */
export function summarize(xs: readonly number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { n, median: Number.NaN, p99: Number.NaN, min: Number.NaN, max: Number.NaN, mean: Number.NaN };
  // The median of an even count is the mean of the middle two (the usual definition).
  const median = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  let sum = 0;
  for (const x of s) sum += x;
  return { n, median, p99: percentileSorted(s, 99), min: s[0]!, max: s[n - 1]!, mean: sum / n };
}

/** sdkit ÷ competitor, or undefined when either side is missing or the divisor is 0. */
export function ratio(sdkit: number | undefined, competitor: number | undefined): number | undefined {
  if (sdkit === undefined || competitor === undefined || !Number.isFinite(sdkit) || !Number.isFinite(competitor) || competitor === 0) return undefined;
  return sdkit / competitor;
}

/** A number with about 3 significant digits; thousands grouped. */
export function fmt(x: number | undefined, digits = 3): string {
  if (x === undefined || Number.isNaN(x)) return "–";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "-∞";
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString("en-US");
  if (a === 0) return "0";
  const d = Math.max(0, digits - 1 - Math.floor(Math.log10(a)));
  return x.toFixed(Math.min(d, 6));
}

/**
 * A ratio for a table cell: "0.0016 (625× less)" for lower-is-better metrics below 1, the
 * plain ratio otherwise. `lowerIsBetter` says which direction means sdkit wins.
 */
export function fmtRatio(r: number | undefined, lowerIsBetter: boolean): string {
  if (r === undefined) return "–";
  const x = fmt(r);
  if (lowerIsBetter && r > 0 && r < 0.5) return `${x} (${fmt(1 / r)}× faster)`;
  if (!lowerIsBetter && r > 2) return `${x} (${fmt(r)}× more)`;
  return x;
}
