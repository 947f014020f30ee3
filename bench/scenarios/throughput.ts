/**
 * Scenario 3: does an inherited listener serve as fast as a fresh one? The same HTTP hello app
 * on a fresh `listen(port)`, on the socket-activated fd via raw `listen({ fd: 3 })`, and on the
 * socket-activated fd via sdkit's `listenTCP`; keep-alive load with wrk (autocannon if wrk is
 * missing); requests/s and p99 latency.
 * @module
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { hasWrk, runAutocannon, runWrk, startApp, stopChild } from "../lib/http-load.js";
import { interleave } from "../lib/interleave.js";
import { missing } from "../lib/sdkit.js";
import { closeFd, freePort, rawTcpListener } from "../lib/sockets.js";
import { fmt, summarize } from "../lib/stats.js";
import { barChart } from "../lib/svg.js";
import type { Ctx, ScenarioResult } from "../lib/types.js";

const COMPETITORS = [
  { name: "sdkit (inherited)", mode: "sdkit", inherited: true, how: "`listenTCP({ name: \"web\", host, port, server })` on the activated fd" },
  { name: "fresh listen(port)", mode: "fresh", inherited: false, how: "`server.listen(port, \"127.0.0.1\")`" },
  { name: "raw listen({fd}) (inherited)", mode: "raw-fd", inherited: true, how: "`server.listen({ fd: 3 })` on the activated fd" },
];

interface Sample { rps: number; p99Ms: number; errors: number }

export async function throughputScenario(ctx: Ctx): Promise<ScenarioResult> {
  const q = ctx.quick;
  // Many short rounds rather than a few long ones: this VM drifts between speeds for seconds at
  // a time, so the verdict uses ratios of runs made side by side (see below).
  const cfg = { rounds: q ? 3 : 12, warmupS: 1, seconds: q ? 2 : 3, conns: 16 };
  const tool = hasWrk() ? "wrk" : "autocannon";
  const load = (port: number, s: number) => (tool === "wrk" ? runWrk(port, s, cfg.conns) : runAutocannon(ctx.root, port, s, cfg.conns));
  const sdMissing = missing(ctx.sdkit, "listenTCP");
  ctx.log(`  ${cfg.rounds} rounds × ${cfg.seconds} s per competitor (${tool}, ${cfg.conns} keep-alive connections)`);
  const r = await interleave<void, Sample>({
    competitors: COMPETITORS.map((c) => ({ name: c.name, ...(c.mode === "sdkit" && sdMissing ? { unavailable: sdMissing } : {}) })),
    rounds: cfg.rounds, warmup: 0, log: ctx.log, alternate: true,
    round: async (c) => {
      const spec = COMPETITORS.find((x) => x.name === c.name)!;
      // A new server process per round; the same warm-up run (discarded) for each.
      const l = spec.inherited ? rawTcpListener() : undefined;
      const port = l?.port ?? freePort();
      const app = await startApp(ctx.benchDir, spec.mode, port, l?.fd);
      if (l) closeFd(l.fd); // the app holds the only copy now, as after systemd's hand-off
      try {
        await load(port, cfg.warmupS);
        return await load(port, cfg.seconds);
      } finally {
        await stopChild(app);
      }
    },
  });
  const rps = (n: string) => summarize(r.results.get(n)!.map((x) => x.rps));
  const p99 = (n: string) => summarize(r.results.get(n)!.map((x) => x.p99Ms));
  const base = rps("fresh listen(port)");
  // Paired: each round's sdkit run ÷ the fresh run right next to it, then the median of those.
  const paired = (n: string): number | undefined => {
    const a = r.results.get(n)!, b = r.results.get("fresh listen(port)")!;
    const xs = a.map((x, i) => (b[i] && b[i].rps > 0 ? x.rps / b[i].rps : NaN)).filter((x) => Number.isFinite(x));
    return xs.length ? summarize(xs).median : undefined;
  };
  const rows = COMPETITORS.map((c) => {
    const s = rps(c.name);
    if (s.n === 0) return [c.name, "–", "–", "–", "–", "–", r.errors.get(c.name) ?? (c.mode === "sdkit" ? sdMissing ?? "" : "")];
    const errs = r.results.get(c.name)!.reduce((a, x) => a + x.errors, 0);
    const pr = paired(c.name);
    return [c.name, fmt(s.median), `${fmt(s.min)} – ${fmt(s.max)}`, fmt(p99(c.name).median), String(errs),
      c.mode === "fresh" ? "1" : pr === undefined ? "–" : fmt(pr), c.how];
  });
  const sd = rps("sdkit (inherited)");
  const rr = paired("sdkit (inherited)");
  const chart = "charts/throughput.svg";
  writeFileSync(join(ctx.outDir, chart), barChart({
    title: "Inherited vs fresh listener: HTTP hello throughput", unit: `requests/s (${tool}, ${cfg.conns} keep-alive connections, ${cfg.seconds} s runs)`, whisker: "best run",
    groups: [{ label: "requests/s, median of runs", bars: COMPETITORS.map((c) => { const s = rps(c.name); return s.n ? { name: c.name, median: s.median, p99: s.max } : { name: c.name, missing: "not available" }; }) }],
  }));
  return {
    id: "throughput", title: "3. Inherited vs fresh listener throughput",
    tables: [{
      title: `${cfg.rounds} runs of ${cfg.seconds} s per competitor, interleaved, each on a new server process after a ${cfg.warmupS} s warm-up run`,
      head: ["Listener", "requests/s median", "range", "p99 latency ms (median run)", "errors", "÷ fresh (median of paired runs)", "How"], rows,
    }],
    targets: [{
      name: "inherited throughput", goal: "≥ 0.98× fresh (median requests/s)",
      measured: rr === undefined ? "not measured" : `${fmt(rr)}× (median of ${cfg.rounds} paired runs; medians ${fmt(sd.median)} vs ${fmt(base.median)} req/s)`, met: rr === undefined ? null : rr >= 0.98,
    }],
    notes: [
      "÷ fresh is the median, over the rounds, of each run's requests/s divided by the fresh listener's run in the same round (the competitors run back to back, in alternating order). This VM drifts between speeds (the same server measures 25,000 or 48,000 req/s minutes apart), so ratios of medians taken over different minutes mostly measure the drift.",
      `Load: ${tool === "wrk" ? "wrk -t1" : "autocannon"} -c${cfg.conns}, keep-alive, from its own process; server and load share the 2 cores. The activated socket is made by the driver (socket/bind/listen, backlog 511 like Node's) and passed at fd 3 with LISTEN_FDS=1, LISTEN_FDNAMES=web.`,
    ],
    charts: [chart],
    data: { config: cfg, tool, samples: Object.fromEntries(r.results), errors: Object.fromEntries(r.errors) },
  };
}
