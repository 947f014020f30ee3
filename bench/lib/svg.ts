/**
 * Hand-written SVG charts (no dependency): horizontal bars with a p99 whisker for the
 * comparison scenarios, and small multiples of latency over time for the replacement scenario.
 * Plain SVG 1.1 with inline styles, so the files render on GitHub and in any browser.
 * @module
 */
import { fmt } from "./stats.js";

const FONT = 'font-family="system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif"';
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const r1 = (x: number): string => (Math.round(x * 10) / 10).toString();

function text(x: number, y: number, s: string, opts: { anchor?: "start" | "middle" | "end"; size?: number; fill?: string; weight?: string } = {}): string {
  return `<text x="${r1(x)}" y="${r1(y)}" ${FONT} font-size="${opts.size ?? 12}" text-anchor="${opts.anchor ?? "start"}" fill="${opts.fill ?? "#222"}"${opts.weight ? ` font-weight="${opts.weight}"` : ""}>${esc(s)}</text>`;
}

/** "Nice" axis ticks covering [0, max]. */
function linearTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 0.999; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function logTicks(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) out.push(10 ** e);
  return out;
}

const tickLabel = (v: number): string => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(Number(v.toPrecision(3))));

/** One bar: a median with an optional p99 whisker; `missing` prints the reason instead. */
export interface Bar { name: string; median?: number; p99?: number; missing?: string }
export interface BarGroup { label: string; bars: Bar[] }

/** Horizontal grouped bars; `log` for values spanning orders of magnitude (notify). */
export function barChart(opts: { title: string; unit: string; groups: BarGroup[]; log?: boolean; note?: string; whisker?: string }): string {
  const wl = opts.whisker ?? "p99";
  const names = [...new Set(opts.groups.flatMap((g) => g.bars.map((b) => b.name)))];
  const color = (n: string) => PALETTE[names.indexOf(n) % PALETTE.length]!;
  const W = 860, left = 230, right = 40, barH = 16, gap = 6, groupGap = 18, top = 56;
  const values = opts.groups.flatMap((g) => g.bars.flatMap((b) => [b.median, b.p99])).filter((v): v is number => v !== undefined && v > 0);
  const vmax = values.length ? Math.max(...values) : 1;
  const vmin = values.length ? Math.min(...values) : 1;
  const plotW = W - left - right;
  const ticks = opts.log ? logTicks(vmin, vmax) : linearTicks(vmax);
  const lo = opts.log ? ticks[0]! : 0;
  const hi = ticks[ticks.length - 1]!;
  const x = (v: number) => left + (opts.log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo) || 1) : (v - lo) / (hi - lo || 1)) * plotW;
  let y = top;
  const body: string[] = [];
  for (const g of opts.groups) {
    body.push(text(10, y + 12, g.label, { weight: "bold" }));
    y += 18;
    for (const b of g.bars) {
      body.push(text(left - 8, y + barH - 4, b.name, { anchor: "end", size: 11 }));
      if (b.median === undefined || !(b.median > 0 || !opts.log)) {
        body.push(text(left + 4, y + barH - 4, b.missing ?? "not available", { size: 11, fill: "#888" }));
      } else {
        const w = Math.max(1, x(b.median) - left);
        body.push(`<rect x="${left}" y="${y}" width="${r1(w)}" height="${barH}" fill="${color(b.name)}" opacity="0.85"/>`);
        let label = fmt(b.median);
        if (b.p99 !== undefined && b.p99 > 0) {
          const xp = x(b.p99);
          body.push(`<line x1="${r1(left + w)}" x2="${r1(xp)}" y1="${y + barH / 2}" y2="${y + barH / 2}" stroke="#333"/><line x1="${r1(xp)}" x2="${r1(xp)}" y1="${y + 3}" y2="${y + barH - 3}" stroke="#333"/>`);
          label += ` (${wl} ${fmt(b.p99)})`;
        }
        const lx = Math.max(left + w, b.p99 ? x(b.p99) : 0) + 4;
        body.push(lx > W - 150 ? text(left + w - 4, y + barH - 4, label, { anchor: "end", size: 10, fill: "#fff" }) : text(lx, y + barH - 4, label, { size: 10 }));
      }
      y += barH + gap;
    }
    y += groupGap;
  }
  const H = y + 30;
  const grid = ticks.map((t) => `<line x1="${r1(x(t))}" x2="${r1(x(t))}" y1="${top - 6}" y2="${y - groupGap}" stroke="#ddd"/>${text(x(t), y - groupGap + 14, tickLabel(t), { anchor: "middle", size: 10, fill: "#555" })}`);
  return svgDoc(W, H, [
    text(10, 22, opts.title, { size: 15, weight: "bold" }),
    text(10, 40, `${opts.unit}${opts.log ? ", log scale" : ""}; bar = median, whisker = ${wl}${opts.note ? ` — ${opts.note}` : ""}`, { size: 11, fill: "#555" }),
    ...grid,
    ...body,
  ]);
}

/** One panel of the latency-over-time chart: per-bucket values and the replacement moments. */
export interface SeriesPanel {
  name: string;
  bucketMs: number;
  /** Per bucket: max and p99 latency of the successful requests (ms; undefined = none). */
  max: (number | undefined)[];
  p99: (number | undefined)[];
  /** Per bucket: failed requests. */
  failed: number[];
  /** Seconds since load start at which a replacement was triggered. */
  events: number[];
  summary: string;
}

/** Small multiples: one latency-over-time panel per competitor, shared axes. */
export function timeSeriesChart(opts: { title: string; subtitle: string; panels: SeriesPanel[]; yCapMs?: number }): string {
  const W = 900, left = 60, right = 20, panelH = 150, gapH = 46, top = 64;
  const plotW = W - left - right;
  const durS = Math.max(1, ...opts.panels.map((p) => (p.max.length * p.bucketMs) / 1000));
  const yAll = opts.panels.flatMap((p) => p.max).filter((v): v is number => v !== undefined);
  const yMax = Math.min(opts.yCapMs ?? Infinity, Math.max(10, ...yAll));
  const yt = linearTicks(yMax, 4);
  const yTop = yt[yt.length - 1]!;
  const xt = linearTicks(durS, 10);
  const out: string[] = [text(10, 22, opts.title, { size: 15, weight: "bold" }), text(10, 40, opts.subtitle, { size: 11, fill: "#555" })];
  opts.panels.forEach((p, i) => {
    const y0 = top + i * (panelH + gapH);
    const X = (s: number) => left + (s / durS) * plotW;
    const Y = (ms: number) => y0 + panelH - (Math.min(ms, yTop) / yTop) * panelH;
    out.push(text(left, y0 - 8, p.name, { weight: "bold" }), text(W - right, y0 - 8, p.summary, { anchor: "end", size: 11, fill: "#444" }));
    out.push(`<rect x="${left}" y="${y0}" width="${plotW}" height="${panelH}" fill="#fafafa" stroke="#ccc"/>`);
    for (const t of yt) out.push(`<line x1="${left}" x2="${W - right}" y1="${r1(Y(t))}" y2="${r1(Y(t))}" stroke="#e4e4e4"/>`, text(left - 6, Y(t) + 4, `${tickLabel(t)}`, { anchor: "end", size: 10, fill: "#555" }));
    for (const t of xt) out.push(text(X(t), y0 + panelH + 14, `${tickLabel(t)}s`, { anchor: "middle", size: 10, fill: "#555" }));
    for (const e of p.events) out.push(`<line x1="${r1(X(e))}" x2="${r1(X(e))}" y1="${y0}" y2="${y0 + panelH}" stroke="#999" stroke-dasharray="3,3"/>`);
    const line = (vals: (number | undefined)[], color: string, width: number) => {
      let d = "";
      vals.forEach((v, k) => {
        if (v === undefined) return;
        const cmd = d === "" || vals[k - 1] === undefined ? "M" : "L";
        d += `${cmd}${r1(X(((k + 0.5) * p.bucketMs) / 1000))},${r1(Y(v))}`;
      });
      if (d) out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}"/>`);
    };
    // max last: it is >= p99, so both stay visible where they differ.
    line(p.p99, "#1f77b4", 1.6);
    line(p.max, "#ff7f0e", 1);
    p.failed.forEach((f, k) => {
      if (f > 0) out.push(`<rect x="${r1(X((k * p.bucketMs) / 1000))}" y="${y0}" width="${r1(Math.max(2, (p.bucketMs / 1000 / durS) * plotW))}" height="${panelH}" fill="#d62728" opacity="${Math.min(0.8, 0.25 + f / 40)}"><title>${f} failed</title></rect>`);
    });
  });
  const H = top + opts.panels.length * (panelH + gapH) + 10;
  const legendY = H - 8;
  out.push(
    `<line x1="${left}" x2="${left + 20}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="#1f77b4" stroke-width="2"/>`, text(left + 24, legendY, "p99 latency per 100 ms", { size: 11 }),
    `<line x1="${left + 190}" x2="${left + 210}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="#ff7f0e" stroke-width="2"/>`, text(left + 214, legendY, "max latency per 100 ms", { size: 11 }),
    `<rect x="${left + 380}" y="${legendY - 10}" width="12" height="10" fill="#d62728" opacity="0.6"/>`, text(left + 396, legendY, "failed requests in the bucket", { size: 11 }),
    `<line x1="${left + 590}" x2="${left + 610}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="#999" stroke-dasharray="3,3"/>`, text(left + 614, legendY, "replacement triggered", { size: 11 }),
  );
  return svgDoc(W, H + 6, out);
}

function svgDoc(w: number, h: number, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${r1(h)}" viewBox="0 0 ${w} ${r1(h)}">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join("\n")}\n</svg>\n`;
}
