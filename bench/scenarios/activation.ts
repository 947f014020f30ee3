/**
 * Scenario 2: socket-activated start-up with N = 1, 64, 512 inherited TCP listeners: sdkit
 * (import + `listenTCP` by name) against raw `net.Server.listen({ fd })`, and the RSS that
 * sdkit adds to the process.
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interleave } from "../lib/interleave.js";
import { exited, waitForLine } from "../lib/proc.js";
import { missing } from "../lib/sdkit.js";
import { closeFd, rawTcpListener, spawnActivated, type RawListener } from "../lib/sockets.js";
import { fmt, fmtRatio, ratio, summarize, type Summary } from "../lib/stats.js";
import { barChart } from "../lib/svg.js";
import type { Ctx, ScenarioResult, Target } from "../lib/types.js";

const NS = [1, 64, 512];
const MODES = ["sdkit", "raw", "floor"] as const;
const HOW: Record<string, string> = {
  sdkit: "`listenTCP({ name, host, port, server })`",
  raw: "`net.createServer(h).listen({ fd })`",
  floor: "raw + sdkit's per-fd syscalls only (fstat, F_SETFD, fdInfo, dup), no sdkit JavaScript",
};

interface Sample { importMs: number; adoptMs: number; totalMs: number; sinceStartMs: number; rss: number; wallMs: number }

/** Connects to `port` and expects the fixture's "ok": the adopted listener really serves. */
function probe(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let got = "";
    s.setTimeout(5000, () => s.destroy(new Error(`probe of port ${port} timed out`)));
    s.on("data", (d) => (got += d.toString()));
    s.on("error", reject);
    s.on("close", () => (got.startsWith("ok") ? resolve() : reject(new Error(`probe of port ${port} got ${JSON.stringify(got)}`))));
  });
}

async function once(ctx: Ctx, mode: string, listeners: RawListener[], portsFile: string): Promise<Sample> {
  const names = listeners.map((_, i) => `l${i}`);
  const t = process.hrtime.bigint();
  const child = spawnActivated([process.execPath, join(ctx.benchDir, "fixtures", "activation-child.mjs"), mode, portsFile], listeners.map((l) => l.fd), names);
  try {
    const line = await waitForLine(child, /^\{/, 30_000, `activation child (${mode}, N=${listeners.length})`);
    const wallMs = Number(process.hrtime.bigint() - t) / 1e6;
    await probe(listeners[listeners.length - 1]!.port);
    return { ...(JSON.parse(line) as Omit<Sample, "wallMs">), wallMs };
  } finally {
    child.kill("SIGTERM");
    await exited(child);
  }
}

export async function activationScenario(ctx: Ctx): Promise<ScenarioResult> {
  const rounds = ctx.quick ? 5 : 20;
  const sdMissing = missing(ctx.sdkit, "listenTCP");
  const dir = mkdtempSync(join(tmpdir(), "sdkit-bench-act-"));
  const res: Record<number, Record<string, Sample[]>> = {};
  const errors: Record<string, string> = {};
  try {
    for (const n of NS) {
      // The listeners stay open in this process for all rounds; each child gets copies.
      const listeners = Array.from({ length: n }, () => rawTcpListener());
      const portsFile = join(dir, `ports-${n}.json`);
      writeFileSync(portsFile, JSON.stringify(listeners.map((l) => l.port)));
      try {
        ctx.log(`  N=${n}: ${rounds} rounds`);
        const r = await interleave<void, Sample>({
          competitors: MODES.map((m) => ({ name: m, ...(m === "sdkit" && sdMissing ? { unavailable: sdMissing } : {}) })),
          rounds, warmup: 1, log: ctx.log,
          round: (c) => once(ctx, c.name, listeners, portsFile),
        });
        res[n] = Object.fromEntries(r.results);
        for (const [k, v] of r.errors) errors[`${k} N=${n}`] = v;
      } finally {
        for (const l of listeners) closeFd(l.fd);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return report(ctx, rounds, res, errors, sdMissing);
}

function report(ctx: Ctx, rounds: number, res: Record<number, Record<string, Sample[]>>, errors: Record<string, string>, sdMissing: string | undefined): ScenarioResult {
  const S = (n: number, m: string, k: keyof Sample): Summary => summarize((res[n]?.[m] ?? []).map((x) => x[k]));
  const rows: string[][] = [];
  const targets: Target[] = [];
  for (const n of NS) {
    for (const m of MODES) {
      const a = S(n, m, "adoptMs");
      if (a.n === 0) {
        rows.push([`${n}`, m, "–", "–", "–", "–", "–", "–", errors[`${m} N=${n}`] ?? (m === "sdkit" ? sdMissing ?? "" : "not available")]);
        continue;
      }
      const me = m === "sdkit";
      const rssAdded = me && S(n, "raw", "rss").n ? (S(n, "sdkit", "rss").median - S(n, "raw", "rss").median) / 2 ** 20 : undefined;
      rows.push([`${n}`, m, fmt(S(n, m, "importMs").median), `${fmt(a.median)} (p99 ${fmt(a.p99)})`, `${fmt(S(n, m, "totalMs").median)} (p99 ${fmt(S(n, m, "totalMs").p99)})`,
        fmt(S(n, m, "wallMs").median), `${fmt(S(n, m, "rss").median / 2 ** 20)}${rssAdded !== undefined ? ` (+${fmt(rssAdded)})` : ""}`,
        m !== "raw" ? `${fmtRatio(ratio(a.median, S(n, "raw", "adoptMs").median), true)} / ${fmtRatio(ratio(S(n, m, "totalMs").median, S(n, "raw", "totalMs").median), true)}` : "1",
        HOW[m]!]);
    }
  }
  const r512 = ratio(S(512, "sdkit", "adoptMs").median, S(512, "raw", "adoptMs").median);
  const t512 = ratio(S(512, "sdkit", "totalMs").median, S(512, "raw", "totalMs").median);
  const f512 = ratio(S(512, "floor", "adoptMs").median, S(512, "raw", "adoptMs").median);
  targets.push({
    name: "adopt 512 inherited fds", goal: "≤ 1.1× raw listen({fd}) (adopt phase, median)",
    measured: r512 === undefined ? "not measured" : `${fmt(r512)}× (${fmt(S(512, "sdkit", "adoptMs").median)} ms vs ${fmt(S(512, "raw", "adoptMs").median)} ms; with sdkit's import ${fmt(t512)}×; its syscalls alone ${fmt(f512 ?? NaN)}×)`,
    met: r512 === undefined ? null : r512 <= 1.1,
  });
  const chart = "charts/activation.svg";
  writeFileSync(join(ctx.outDir, chart), barChart({
    title: "Activation start-up: inherited fds → listening servers", unit: "ms, import + adopt (script start → all listening)",
    groups: NS.map((n) => ({ label: `N = ${n}`, bars: MODES.map((m) => { const t = S(n, m, "totalMs"); return t.n ? { name: m, median: t.median, p99: t.p99 } : { name: m, missing: "not available" }; }) })),
  }));
  return {
    id: "activation", title: "2. Activation start-up",
    tables: [{
      title: `${rounds} start-ups per N and competitor, interleaved; times in ms`,
      head: ["N fds", "Competitor", "import", "adopt median", "import + adopt", "spawn → ready (wall)", "RSS MiB (added by sdkit)", "÷ raw (adopt / import+adopt)", "How"], rows,
    }],
    targets,
    notes: [
      "The driver creates N TCP listeners (socket/bind/listen, backlog 511, no libuv handle) and starts each child like systemd: fds at 3…, LISTEN_FDS, LISTEN_FDNAMES=l0:l1:…, LISTEN_PID via `sh -c 'LISTEN_PID=$$ exec …'`.",
      "adopt = first server created → every server emitted 'listening'; import = `await import(sdkit)` (dist, with the addon); spawn → ready adds Node's own boot. After each start-up the driver connects to the last listener to check it serves.",
      "RSS is the child's resident set when ready; the sdkit figure in parentheses is the difference from the raw child's median at the same N.",
      "floor is not a competitor: it is raw plus exactly the syscalls sdkit makes per inherited fd (libsystemd's close-on-exec, the identity that guards against reused fd numbers, the kind-and-address check, the dup that keeps the fd for a successor), called through sdkit's addon with no other JavaScript. On a VM where every syscall costs 1-1.5 µs, it shows how much of sdkit's time is the checks themselves.",
      "sdkit loads its addon at import, so `import` includes it and `adopt` does not.",
    ],
    charts: [chart],
    data: { rounds, samples: res, errors },
  };
}
