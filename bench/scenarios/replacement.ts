/**
 * Scenario 4: replacing the server under load. sdkit `replaceProcess` (successor inherits the
 * listener, parent drains), sdkit `reexec` (drain, execve in place), `pm2 reload` (cluster
 * mode, 2 workers) and a naive graceful kill + restart; two load types (the baseline's new
 * connection per request, and autocannon keep-alive), each from its own process.
 * @module
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LoadKind } from "../lib/http-load.js";
import { interleave } from "../lib/interleave.js";
import { session, type Mechanism, type Session } from "../lib/replace-rig.js";
import { missing } from "../lib/sdkit.js";
import { freePort } from "../lib/sockets.js";
import { fmt, fmtRatio, ratio, summarize } from "../lib/stats.js";
import { timeSeriesChart, type SeriesPanel } from "../lib/svg.js";
import type { Ctx, ScenarioResult, Table, Target } from "../lib/types.js";

const COMPETITORS: { name: string; mech: Mechanism; how: string }[] = [
  { name: "sdkit replaceProcess", mech: "replace", how: "SIGHUP → `onShutdown({ replaceOn: \"SIGHUP\" })`: successor inherits the listener, signals ready, old process drains" },
  { name: "sdkit reexec", mech: "reexec", how: "SIGHUP → drain, then `reexec()` in place (same pid); the listener stays open across execve" },
  { name: "pm2 reload", mech: "pm2", how: "`pm2 reload` (cluster mode, 2 workers; app closes its server on SIGINT)" },
  { name: "naive restart", mech: "naive", how: "SIGTERM (app: `server.close()` then exit), wait, start a new process" },
];
const LOADS: { kind: LoadKind; label: string }[] = [
  { kind: "own", label: "new connection per request (own client, c=8, 3 s timeout)" },
  { kind: "keepalive", label: "keep-alive (autocannon, c=8, 3 s timeout)" },
];

export async function replacementScenario(ctx: Ctx): Promise<ScenarioResult> {
  const q = ctx.quick;
  const cfg = { rounds: q ? 1 : 2, cyclesPerRound: q ? 3 : 10, gapMs: q ? 400 : 700 };
  const sdMissing = {
    replace: missing(ctx.sdkit, "listenTCP", "replaceProcess", "signalParentTermination", "onShutdown"),
    reexec: missing(ctx.sdkit, "listenTCP", "reexec", "onShutdown"),
  } as Record<Mechanism, string | undefined>;
  const runs: Record<LoadKind, Awaited<ReturnType<typeof interleave<void, Session>>>> = {} as never;
  // Quick mode keeps to the baseline's main load (new connection per request) to stay < 2 min.
  for (const l of q ? LOADS.slice(0, 1) : LOADS) {
    ctx.log(`  ${l.kind} load: ${cfg.rounds} round(s) × ${cfg.cyclesPerRound} cycles per competitor`);
    runs[l.kind] = await interleave<void, Session>({
      competitors: COMPETITORS.map((c) => ({ name: c.name, ...(sdMissing[c.mech] ? { unavailable: sdMissing[c.mech]! } : {}) })),
      rounds: cfg.rounds, warmup: 0, log: ctx.log,
      round: (c) => session(ctx.benchDir, COMPETITORS.find((x) => x.name === c.name)!.mech, l.kind, freePort(), cfg.cyclesPerRound, cfg.gapMs),
    });
  }
  return report(ctx, cfg, runs, sdMissing);
}

interface Agg { sessions: number; cycles: number; ok: number; failed: number; byType: Record<string, number>; p99: number; max: number; cycleMs: number }

function aggregate(ss: Session[]): Agg | undefined {
  if (ss.length === 0) return undefined;
  const byType: Record<string, number> = {};
  for (const s of ss) for (const [k, v] of Object.entries(s.load.byType)) byType[k] = (byType[k] ?? 0) + v;
  return {
    sessions: ss.length, cycles: ss.reduce((a, s) => a + s.events.length, 0),
    ok: ss.reduce((a, s) => a + s.load.ok, 0), failed: ss.reduce((a, s) => a + s.load.failed, 0), byType,
    p99: Math.max(...ss.map((s) => s.load.latencyMs.p99 ?? Number.NaN)), max: Math.max(...ss.map((s) => s.load.latencyMs.max ?? Number.NaN)),
    cycleMs: summarize(ss.flatMap((s) => s.cycleMs)).median,
  };
}

function report(ctx: Ctx, cfg: { rounds: number; cyclesPerRound: number; gapMs: number }, runs: Record<LoadKind, { results: Map<string, Session[]>; errors: Map<string, string> }>, sdMissing: Record<Mechanism, string | undefined>): ScenarioResult {
  const tables: Table[] = [];
  const charts: string[] = [];
  const aggs: Record<string, Record<string, Agg | undefined>> = {};
  const loads = LOADS.filter((l) => runs[l.kind]);
  for (const l of loads) {
    const run = runs[l.kind];
    const a = (aggs[l.kind] = Object.fromEntries(COMPETITORS.map((c) => [c.name, aggregate(run.results.get(c.name)!)])));
    const ref = a["sdkit replaceProcess"];
    tables.push({
      title: `Load: ${l.label}`,
      head: ["Mechanism", "cycles", "ok requests", "failed", "failed by type", "p99 ms", "max ms", "sdkit replaceProcess ÷ it (p99 / max)", "cycle ms (median)", "How"],
      rows: COMPETITORS.map((c) => {
        const x = a[c.name];
        if (!x) return [c.name, "–", "–", "–", "–", "–", "–", "–", "–", run.errors.get(c.name) ?? sdMissing[c.mech] ?? "not available"];
        const types = Object.entries(x.byType).map(([k, v]) => `${v} ${k}`).join(", ") || "–";
        const rr = c.mech === "replace" ? "1" : ref ? `${fmtRatio(ratio(ref.p99, x.p99), true)} / ${fmtRatio(ratio(ref.max, x.max), true)}` : "–";
        return [c.name, String(x.cycles), x.ok.toLocaleString("en-US"), `**${x.failed}**`, types, fmt(x.p99), fmt(x.max), rr, fmt(x.cycleMs), c.how];
      }),
    });
    const panels: SeriesPanel[] = [];
    for (const c of COMPETITORS) {
      const s = run.results.get(c.name)![0];
      if (!s) continue;
      const b = s.load.buckets;
      panels.push({
        name: c.name, bucketMs: s.load.bucketMs, events: s.events,
        p99: b.map((x) => x[2] ?? undefined), max: b.map((x) => x[3] ?? undefined), failed: b.map((x) => x[1]),
        summary: `${s.load.failed} failed, p99 ${fmt(s.load.latencyMs.p99 ?? undefined)} ms, max ${fmt(s.load.latencyMs.max ?? undefined)} ms (this session)`,
      });
    }
    const chart = `charts/replacement-${l.kind}.svg`;
    writeFileSync(join(ctx.outDir, chart), timeSeriesChart({
      title: `Latency during replacements — ${l.label}`,
      subtitle: `first session of each mechanism: ${cfg.cyclesPerRound} replacements, ${cfg.gapMs} ms apart after each completes; y axis capped at 500 ms`,
      panels, yCapMs: 500,
    }));
    charts.push(chart);
  }
  const targets: Target[] = [];
  for (const mech of ["replace", "reexec"] as const) {
    const name = COMPETITORS.find((c) => c.mech === mech)!.name;
    const f = loads.map((l) => aggs[l.kind]![name]);
    const naive = loads.map((l) => aggs[l.kind]!["naive restart"]);
    const measured = f.every((x) => x) ? loads.map((l, i) => `${l.kind}: ${f[i]!.failed} failed${naive[i] ? ` (naive: ${naive[i]!.failed})` : ""}`).join("; ") : "not measured";
    targets.push({
      name: `zero-downtime ${name}`, goal: "0 failed requests under every load type, while the naive restart loses some",
      measured, met: f.every((x) => x) ? f.every((x) => x!.failed === 0) && naive.every((x) => x && x.failed > 0) : null,
    });
  }
  return {
    id: "replacement", title: "4. Replacement under load", tables, targets, charts,
    notes: [
      `${cfg.rounds} session(s) per mechanism and load type, interleaved; each session: a new server on a new port, 1 s of load, ${cfg.cyclesPerRound} replacements (each waited for, then ${cfg.gapMs} ms), 1 s of load, stop.`,
      "Load runs in its own process; requests are timed from their start; failures are REFUSED (nobody listening), RESET (connection dropped, incl. socket hang up), TIMEOUT (3 s). p99 and max are of successful requests; with several sessions the worst session's value is shown.",
      "cycle ms: trigger → the new server said ready (sdkit), the old process exited and the new one is ready (naive), or the `pm2 reload` command returned.",
      "The same app for every mechanism (HTTP hello, body = pid); its shutdown is graceful in every variant (sdkit drain, or server.close()).",
    ],
    data: { config: cfg, aggregates: aggs, sessions: Object.fromEntries(loads.map((l) => [l.kind, Object.fromEntries([...runs[l.kind].results].map(([k, v]) => [k, v.map((s) => ({ ...s.load, buckets: undefined, events: s.events, cycleMs: s.cycleMs }))]))])), errors: Object.fromEntries(loads.map((l) => [l.kind, Object.fromEntries(runs[l.kind].errors)])) },
  };
}
