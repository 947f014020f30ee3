/**
 * latest.md: the machine, the targets with their verdicts, then one section per scenario with
 * its tables and chart links. The same text is printed at the end of the run.
 * @module
 */
import type { ScenarioResult, Table } from "./types.js";

export interface Meta {
  date: string;
  mode: "quick" | "full";
  machine: string;
  cpus: string;
  kernel: string;
  node: string;
  systemd: string;
  competitors: Record<string, string>;
  sdkit: string;
  seconds: number;
  /** 1-minute load average at the start and at the end: other work on the machine skews everything. */
  load: [number, number];
}

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function mdTable(t: Table): string {
  const lines = [`| ${t.head.map(cell).join(" | ")} |`, `|${t.head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`];
  for (const r of t.rows) lines.push(`| ${r.map(cell).join(" | ")} |`);
  return lines.join("\n");
}

const verdict = (met: boolean | null): string => (met === null ? "not measured" : met ? "met" : "**missed**");

export function renderMarkdown(meta: Meta, results: ScenarioResult[]): string {
  const out: string[] = [];
  out.push(`# sdkit benchmark (${meta.mode})`, "");
  out.push(`${meta.date}; ${meta.machine}; ${meta.cpus}; kernel ${meta.kernel}; Node ${meta.node}; systemd ${meta.systemd}; sdkit ${meta.sdkit}; ` +
    `competitors: ${Object.entries(meta.competitors).map(([k, v]) => `${k} ${v}`).join(", ")}. Run time ${Math.round(meta.seconds)} s; 1-min load average ${meta.load[0].toFixed(2)} at the start, ${meta.load[1].toFixed(2)} at the end.`, "");
  out.push("Ratios are sdkit ÷ competitor on the median unless a column says otherwise: below 1 means sdkit takes less (time, failures), above 1 more (throughput). " +
    "Competitors ran interleaved (A B A B …) with the same payloads, warm-ups and iteration counts.", "");
  const targets = results.flatMap((r) => r.targets);
  if (targets.length) {
    out.push("## Targets", "", mdTable({ title: "", head: ["Target", "Goal", "Measured", "Verdict"], rows: targets.map((t) => [t.name, t.goal, t.measured, verdict(t.met)]) }), "");
  }
  for (const r of results) {
    out.push(`## ${r.title}`, "");
    if (r.ranAt) out.push(`_Measured ${r.ranAt.replace("T", " ").slice(0, 19)} UTC in ${Math.round(r.seconds ?? 0)} s; 1-min load average ${r.load?.[0].toFixed(2) ?? "?"} → ${r.load?.[1].toFixed(2) ?? "?"}._`, "");
    if (r.error) out.push(`**The scenario failed:** ${r.error}`, "");
    for (const t of r.tables) {
      if (t.title) out.push(`**${t.title}**`, "");
      out.push(mdTable(t), "");
    }
    for (const c of r.charts) out.push(`![${r.title}](${c})`, "");
    for (const n of r.notes) out.push(`- ${n}`);
    if (r.notes.length) out.push("");
  }
  return out.join("\n");
}
