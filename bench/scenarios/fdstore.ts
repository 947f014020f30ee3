/**
 * Scenario 5: `systemctl --user restart` of a Type=notify service under load, in a real
 * (isolated) systemd 252 user manager: the sdkit app with its listener in the FD store
 * (`notify("READY=1", { fds: true })`, FileDescriptorStoreMax=) against the same app without
 * it (a fresh listen on every start). The manager comes from the test harness
 * (test/harness/user-manager.ts); without it the scenario reports "not available".
 * @module
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { startLoad, type LoadResult } from "../lib/http-load.js";
import { interleave } from "../lib/interleave.js";
import { sleep } from "../lib/proc.js";
import { missing } from "../lib/sdkit.js";
import { freePort } from "../lib/sockets.js";
import { fmt, summarize } from "../lib/stats.js";
import { timeSeriesChart, type SeriesPanel } from "../lib/svg.js";
import type { Ctx, ScenarioResult } from "../lib/types.js";

/** The part of the harness's UserManager that we use. */
interface Manager {
  unitsDir: string;
  writeUnit(name: string, content: string): Promise<void>;
  systemctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

const VARIANTS = [
  { name: "sdkit with FD store", fdstore: true, how: "`listenTCP({ name: \"web\" })` inherits the stored fd; `notify(\"READY=1\", { fds: true })` stores it" },
  { name: "sdkit without FD store", fdstore: false, how: "the same app, `notify(\"READY=1\")` only: every start listens afresh" },
];

interface Session { load: LoadResult; events: number[]; restartMs: number[]; failedRestarts: number }

function unit(ctx: Ctx, port: number, fdstore: boolean, log: string): string {
  return `[Unit]
Description=sdkit bench app
# Restarts come faster than the default start rate limit allows (baseline observation 5).
StartLimitIntervalSec=0

[Service]
Type=notify
ExecStart=${process.execPath} ${join(ctx.benchDir, "fixtures", "http-app.mjs")} fdstore ${port}
${fdstore ? "FileDescriptorStoreMax=16" : "Environment=BENCH_NO_FDSTORE=1"}
TimeoutStopSec=20
StandardOutput=append:${log}
StandardError=append:${log}
`;
}

async function session(ctx: Ctx, m: Manager, fdstore: boolean, cycles: number, gapMs: number, dir: string): Promise<Session> {
  const port = freePort();
  const log = join(dir, `app-${port}.log`);
  await m.writeUnit("bench-app.service", unit(ctx, port, fdstore, log));
  const st = await m.systemctl("start", "bench-app.service");
  if (st.code !== 0) throw new Error(`systemctl start failed (${st.code}): ${st.stderr.trim()} ${existsSync(log) ? readFileSync(log, "utf8").slice(-2000) : ""}`);
  try {
    const load = await startLoad(ctx.benchDir, "own", port, 600);
    const at: bigint[] = [];
    const restartMs: number[] = [];
    let failedRestarts = 0;
    let result: LoadResult;
    try {
      await sleep(1000);
      for (let i = 0; i < cycles; i++) {
        const t = process.hrtime.bigint();
        at.push(t);
        const r = await m.systemctl("restart", "bench-app.service");
        if (r.code !== 0) failedRestarts++;
        restartMs.push(Number(process.hrtime.bigint() - t) / 1e6);
        await sleep(gapMs);
      }
      await sleep(1000);
    } finally {
      result = await load.stop();
    }
    const start = BigInt(result.startNs);
    return { load: result, events: at.map((t) => Number(t - start) / 1e9), restartMs, failedRestarts };
  } finally {
    await m.systemctl("stop", "bench-app.service");
  }
}

export async function fdstoreScenario(ctx: Ctx): Promise<ScenarioResult> {
  const cfg = { rounds: ctx.quick ? 1 : 2, cyclesPerRound: ctx.quick ? 3 : 10, gapMs: ctx.quick ? 300 : 500 };
  const sdMissing = missing(ctx.sdkit, "listenTCP", "notify", "onShutdown", "userManager");
  const base = { id: "fdstore", title: "5. FD-store restart under systemd", targets: [], charts: [] as string[] };
  if (sdMissing) {
    return { ...base, tables: [{ title: "", head: ["Variant", "Result"], rows: VARIANTS.map((v) => [v.name, sdMissing]) }], notes: [], data: { unavailable: sdMissing } };
  }
  const harness = (await import(pathToFileURL(join(ctx.root, "test", "harness", "user-manager.ts")).href)) as { startUserManager(o?: { version?: 252 }): Promise<Manager> };
  const dir = mkdtempSync(join(tmpdir(), "sdkit-bench-fdstore-"));
  let m: Manager | undefined;
  try {
    m = await harness.startUserManager({ version: 252 });
    const mgr = m;
    ctx.log(`  ${cfg.rounds} round(s) × ${cfg.cyclesPerRound} restarts per variant`);
    const r = await interleave<void, Session>({
      competitors: VARIANTS.map((v) => ({ name: v.name })), rounds: cfg.rounds, warmup: 0, log: ctx.log,
      round: (c) => session(ctx, mgr, VARIANTS.find((v) => v.name === c.name)!.fdstore, cfg.cyclesPerRound, cfg.gapMs, dir),
    });
    return report(ctx, cfg, r, base);
  } finally {
    await m?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(ctx: Ctx, cfg: { rounds: number; cyclesPerRound: number; gapMs: number }, r: { results: Map<string, Session[]>; errors: Map<string, string> }, base: { id: string; title: string }): ScenarioResult {
  const rows = VARIANTS.map((v) => {
    const ss = r.results.get(v.name)!;
    if (ss.length === 0) return [v.name, "–", "–", "–", "–", "–", "–", "–", r.errors.get(v.name) ?? "not available"];
    const sum = (f: (s: Session) => number) => ss.reduce((a, s) => a + f(s), 0);
    const refused = sum((s) => s.load.byType.REFUSED ?? 0);
    const other = sum((s) => s.load.failed) - refused;
    const restarts = sum((s) => s.events.length);
    return [v.name, `${restarts}${sum((s) => s.failedRestarts) ? ` (${sum((s) => s.failedRestarts)} failed)` : ""}`, sum((s) => s.load.ok).toLocaleString("en-US"), `**${refused}**`, String(other),
      fmt(Math.max(...ss.map((s) => s.load.latencyMs.p99 ?? Number.NaN))), fmt(Math.max(...ss.map((s) => s.load.latencyMs.max ?? Number.NaN))),
      fmt(summarize(ss.flatMap((s) => s.restartMs)).median), v.how];
  });
  const panels: SeriesPanel[] = VARIANTS.flatMap((v) => {
    const s = r.results.get(v.name)![0];
    if (!s) return [];
    const b = s.load.buckets;
    return [{ name: v.name, bucketMs: s.load.bucketMs, events: s.events, p99: b.map((x) => x[2] ?? undefined), max: b.map((x) => x[3] ?? undefined), failed: b.map((x) => x[1]),
      summary: `${s.load.byType.REFUSED ?? 0} refused, ${s.load.failed - (s.load.byType.REFUSED ?? 0)} other failed, max ${fmt(s.load.latencyMs.max ?? undefined)} ms (this session)` }];
  });
  const chart = "charts/fdstore.svg";
  writeFileSync(join(ctx.outDir, chart), timeSeriesChart({
    title: "systemctl --user restart under load: FD store vs none",
    subtitle: `first session of each variant: ${cfg.cyclesPerRound} restarts, ${cfg.gapMs} ms apart after each returns; own client, new connection per request; y capped at 500 ms`,
    panels, yCapMs: 500,
  }));
  const withStore = r.results.get(VARIANTS[0]!.name)!;
  const refusedWith = withStore.reduce((a, s) => a + (s.load.byType.REFUSED ?? 0), 0);
  return {
    ...base,
    tables: [{ title: "", head: ["Variant", "restarts", "ok requests", "refused", "other failed", "p99 ms", "max ms", "restart ms (median)", "How"], rows }],
    targets: [],
    notes: [
      `A real systemd 252 user manager (test/harness/user-manager.ts: private mount namespace, own cgroup, only our unit loaded). Unit: Type=notify, StartLimitIntervalSec=0, ${"FileDescriptorStoreMax=16"} for the FD-store variant. ${cfg.rounds} session(s) per variant, interleaved; load: own client (new connection per request, c=8, 3 s timeout).`,
      "On SIGTERM the app drains (sdkit onShutdown) and exits; `systemctl restart` returns when the new process sent READY=1. With the FD store the listening socket stays open in the manager, so connections made during the restart wait in the backlog instead of being refused.",
      ...(withStore.length ? [`Refused with the FD store: ${refusedWith}.`] : []),
    ],
    charts: [chart],
    data: { config: cfg, sessions: Object.fromEntries([...r.results].map(([k, v]) => [k, v.map((s) => ({ ...s.load, buckets: undefined, events: s.events, restartMs: s.restartMs, failedRestarts: s.failedRestarts }))])), errors: Object.fromEntries(r.errors) },
  };
}
