/**
 * Scenario 1: notify. Round trip (send → the receiver has it), messages per second in bursts,
 * and FD-store pushes of 1 and 64 fds, for sdkit against spawning systemd-notify, npm
 * sd-notify (libsystemd) and npm unix-dgram used by hand.
 * @module
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interleave, type Competitor } from "../lib/interleave.js";
import { Receiver, Sender } from "../lib/notify-rig.js";
import { missing } from "../lib/sdkit.js";
import { fmt, fmtRatio, ratio, summarize, type Summary } from "../lib/stats.js";
import { barChart, type Bar } from "../lib/svg.js";
import type { Ctx, ScenarioResult, Target } from "../lib/types.js";

const NAMES = ["sdkit", "systemd-notify", "sd-notify", "unix-dgram"] as const;
const HOW: Record<string, string> = {
  "sdkit": "`await notify(msg)` (native sendmsg, fresh socket per call like libsystemd)",
  "systemd-notify": "spawn `/usr/bin/systemd-notify --no-block msg`, await exit",
  "sd-notify": "`sendState(msg)` → libsystemd `sd_notify` (sync)",
  "unix-dgram": "one socket connected once, `send(buf, cb)`, resent on `writable`",
};
const NO_FDS: Record<string, string> = {
  "systemd-notify": "cannot: systemd-notify 252 has no --fd (added in 254)",
  "sd-notify": "cannot: no fd-passing API",
  "unix-dgram": "cannot: no SCM_RIGHTS support",
};

type Run<R> = { results: Map<string, R[]>; errors: Map<string, string> };

export async function notifyScenario(ctx: Ctx): Promise<ScenarioResult> {
  const q = ctx.quick;
  const cfg = {
    rtPerRound: q ? 30 : 200, rtRounds: q ? 4 : 10, evPerRound: q ? 30 : 100, evRounds: q ? 2 : 5,
    burst: 100, burstRounds: q ? 3 : 10, fdPerRound: q ? 20 : 100, fdRounds: q ? 3 : 5, warmup: 1,
  };
  const dir = mkdtempSync(join(tmpdir(), "sdkit-bench-notify-"));
  const sock = join(dir, "notify.sock");
  const sdMissing = missing(ctx.sdkit, "notify");
  const eventKind = ctx.sdkit.features.NotifyReceiver && process.env.BENCH_RECEIVER !== "python" ? "sdkit" : "python";
  let seq = 1;
  let receiver: Receiver | undefined;
  let truncated = 0;
  // Fresh senders for every phase (a receiver restart breaks unix-dgram's connected socket).
  const senders = (fdPhase: boolean): Competitor<Sender>[] => NAMES.map((name) => {
    const no = name === "sdkit" ? sdMissing : fdPhase ? NO_FDS[name] : undefined;
    return { name, ...(no ? { unavailable: no } : {}), setup: () => Sender.start(name, sock, ctx.benchDir), teardown: (s) => s.stop() };
  });
  const useReceiver = async (kind: "python-spin" | "python" | "sdkit") => {
    if (receiver) truncated += receiver.truncated;
    receiver?.stop();
    receiver = await Receiver.start(kind, sock, ctx.benchDir);
    return receiver;
  };
  const roundTrips = (rx: Receiver, perRound: number, rounds: number, nfds?: number) => interleave<Sender, number[]>({
    competitors: senders(nfds !== undefined), rounds, warmup: cfg.warmup, log: ctx.log,
    round: async (_c, s) => {
      const out: number[] = [];
      for (let i = 0; i < perRound; i++) {
        const n = seq++;
        const [t0] = await s.command(nfds === undefined ? `rt ${n}` : `fds ${n} ${nfds}`);
        const a = await rx.wait(n, nfds ?? 0);
        out.push(Number(a.t - t0) / 1000);
      }
      return out;
    },
  });
  try {
    const spin = await useReceiver("python-spin");
    ctx.log(`  round trip, busy-polling receiver: ${cfg.rtRounds} rounds × ${cfg.rtPerRound}`);
    const rt = await roundTrips(spin, cfg.rtPerRound, cfg.rtRounds);
    ctx.log(`  bursts: ${cfg.burstRounds} rounds × ${cfg.burst} messages`);
    const burst = await interleave<Sender, number>({
      competitors: senders(false), rounds: cfg.burstRounds, warmup: cfg.warmup, log: ctx.log,
      round: async (_c, s) => {
        const first = seq;
        seq += cfg.burst;
        const [t0] = await s.command(`burst ${first} ${cfg.burst}`);
        const a = await spin.wait(first + cfg.burst - 1);
        return cfg.burst / (Number(a.t - t0) / 1e9);
      },
    });
    const fd: Record<number, Run<number[]>> = {};
    for (const nfds of [1, 64]) {
      ctx.log(`  FD store: ${cfg.fdRounds} rounds × ${cfg.fdPerRound} pushes of ${nfds} fd(s)`);
      fd[nfds] = await roundTrips(spin, cfg.fdPerRound, cfg.fdRounds, nfds);
    }
    const ev = await useReceiver(eventKind);
    ctx.log(`  round trip, event-driven receiver (${eventKind}): ${cfg.evRounds} rounds × ${cfg.evPerRound}`);
    const rtEv = await roundTrips(ev, cfg.evPerRound, cfg.evRounds);
    truncated += ev.truncated;
    return report(ctx, cfg, eventKind, truncated, rt, rtEv, burst, fd, sdMissing);
  } finally {
    receiver?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(ctx: Ctx, cfg: Record<string, number>, eventKind: string, truncated: number, rt: Run<number[]>, rtEv: Run<number[]>, burst: Run<number>, fd: Record<number, Run<number[]>>, sdMissing: string | undefined): ScenarioResult {
  const why = (name: string, run: Run<unknown>, noFds = false): string =>
    run.errors.get(name) ?? (name === "sdkit" ? sdMissing ?? "" : noFds ? NO_FDS[name] ?? "" : "");
  const per = <R>(run: Run<R>, f: (xs: R[]) => number[]) => Object.fromEntries(NAMES.map((n) => [n, summarize(f(run.results.get(n)!))])) as Record<string, Summary>;
  const lat = per(rt, (x) => x.flat()), latEv = per(rtEv, (x) => x.flat()), rate = per(burst, (x) => x);
  const fd1 = per(fd[1]!, (x) => x.flat()), fd64 = per(fd[64]!, (x) => x.flat());
  const s = lat.sdkit!, e = latEv.sdkit!;
  const rows = NAMES.map((n) => {
    const l = lat[n]!, le = latEv[n]!, r = rate[n]!;
    if (l.n === 0) return [n, "–", "–", "–", "–", "–", "–", "–", why(n, rt) || "not available"];
    const me = n === "sdkit";
    return [n, fmt(l.median), fmt(l.p99), me ? "1" : fmtRatio(ratio(s.median, l.median), true),
      fmt(le.median), me ? "1" : fmtRatio(ratio(e.median, le.median), true),
      fmt(r.median), me ? "1" : fmtRatio(ratio(rate.sdkit!.median, r.median), false), HOW[n]!];
  });
  const fdRows = NAMES.map((n) => {
    const a = fd1[n]!, b = fd64[n]!;
    if (a.n === 0 && b.n === 0) return [n, "–", "–", "–", "–", why(n, fd[1]!, true) || "not available"];
    return [n, fmt(a.median), fmt(a.p99), fmt(b.median), fmt(b.p99), n === "sdkit" ? "`notify({}, { fds: [{ name, fd }, …] })`: FDSTORE=1 + FDNAME, SCM_RIGHTS" : ""];
  });
  const targets: Target[] = [];
  const cli = lat["systemd-notify"]!, lib = lat["sd-notify"]!;
  const vsCli = ratio(cli.median, s.median);
  targets.push({ name: "notify vs systemd-notify", goal: "≥ 500× faster (median round trip)", measured: vsCli === undefined ? "not measured" : `${fmt(vsCli)}× (${fmt(s.median)} µs vs ${fmt(cli.median)} µs)`, met: vsCli === undefined ? null : vsCli >= 500 });
  const vsLib = ratio(s.median, lib.median);
  targets.push({ name: "notify vs sd-notify (libsystemd)", goal: "no slower (sdkit ÷ sd-notify ≤ 1, median round trip)", measured: vsLib === undefined ? "not measured" : `${fmt(vsLib)} (${fmt(s.median)} µs vs ${fmt(lib.median)} µs)`, met: vsLib === undefined ? null : vsLib <= 1 });

  const chart = "charts/notify.svg";
  const bars = (m: Record<string, Summary>, noFds: boolean): Bar[] => NAMES.map((n) => {
    const x = m[n]!;
    return x.n ? { name: n, median: x.median, p99: x.p99 } : { name: n, missing: noFds && n !== "sdkit" ? NO_FDS[n]! : "not available" };
  });
  writeFileSync(join(ctx.outDir, chart), barChart({
    title: "Notify: send → the receiver has it", unit: "µs", log: true,
    groups: [
      { label: "Round trip, busy-polling receiver", bars: bars(lat, false) },
      { label: `Round trip, event-driven receiver (${eventKind === "sdkit" ? "sdkit NotifyReceiver" : "python3"})`, bars: bars(latEv, false) },
      { label: "FD store push, 1 fd", bars: bars(fd1, true) },
      { label: "FD store push, 64 fds", bars: bars(fd64, true) },
    ],
  }));
  return {
    id: "notify", title: "1. Notify",
    tables: [
      {
        title: `Round trip (${cfg.rtRounds}×${cfg.rtPerRound} busy-polling, ${cfg.evRounds}×${cfg.evPerRound} event-driven) and throughput (${cfg.burstRounds} bursts of ${cfg.burst}), per competitor`,
        head: ["Sender", "round trip median µs", "p99 µs", "sdkit ÷ it", "event-driven receiver median µs", "sdkit ÷ it", "msgs/s (median burst)", "sdkit ÷ it", "How"], rows,
      },
      { title: `FD store pushes (${cfg.fdRounds}×${cfg.fdPerRound} pushes each), send → the receiver holds the fds`, head: ["Sender", "1 fd median µs", "1 fd p99 µs", "64 fds median µs", "64 fds p99 µs", "How"], rows: fdRows },
    ],
    targets,
    notes: [
      "Round trip = the receiver's arrival time − the sender's time right before its send call, both CLOCK_MONOTONIC (process.hrtime.bigint() / time.monotonic_ns()). Round trips are sequential: the next message goes after the previous one arrived. Payloads are identical (`STATUS=b<8-digit seq>`); each competitor sends from its own Node process.",
      "The headline receiver is a python3 recvmsg loop that busy-polls (MSG_DONTWAIT), so the time is the sender's and the kernel's, not the receiver's wake-up. " +
        `The event-driven column uses ${eventKind === "sdkit" ? "sdkit's NotifyReceiver (libuv poll, like a service manager's epoll)" : "the same python3 loop, blocking"}: the scheduler's wake-up of a sleeping receiver, the same for everyone, is added to every message.`,
      "Receivers bind a path socket (unix-dgram cannot address abstract sockets) and close received fds at once.",
      `msgs/s: a burst of ${cfg.burst} messages sent back to back (each call awaited), from the first send to the arrival of the last. This host has net.unix.max_dgram_qlen = ${readQlen()} (systemd hosts set 512), so a burst runs at the receiver's pace once its queue is full: libsystemd blocks, sdkit waits for room, unix-dgram resends on "writable".`,
      ...(truncated ? [`The receiver saw ${truncated} truncated datagram(s).`] : []),
    ],
    charts: [chart],
    data: { config: cfg, eventReceiver: eventKind, roundTripUs: lat, roundTripEventDrivenUs: latEv, msgsPerSecond: rate, fdPushUs: { 1: fd1, 64: fd64 }, errors: Object.fromEntries([...rt.errors, ...rtEv.errors, ...burst.errors, ...fd[1]!.errors, ...fd[64]!.errors]) },
  };
}

function readQlen(): string {
  try {
    return readFileSync("/proc/sys/net/unix/max_dgram_qlen", "utf8").trim();
  } catch {
    return "?";
  }
}
