// The soak run (`npm run soak`, not part of `npm test`): 1,000 process replacements under a
// continuous request load and 100,000 notifies to a real receiver, checking that fd counts and
// memory stay flat and that nothing is lost. Prints the numbers and writes test/soak/last-run.json.
//   SOAK_REPLACEMENTS (default 1000), SOAK_NOTIFIES (default 100000) make shorter runs possible.
// Exits non-zero when a check fails.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import http from "node:http";
import { join } from "node:path";
import { ROOT } from "../helpers/spawn.js";

const REPLACEMENTS = Number(process.env.SOAK_REPLACEMENTS ?? 1000);
const NOTIFIES = Number(process.env.SOAK_NOTIFIES ?? 100_000);
const MiB = 1 << 20;
const failures: string[] = [];
const check = (ok: boolean, what: string) => { if (!ok) failures.push(what); };
const fdCount = () => readdirSync("/proc/self/fd").length - 1; // minus readdir's own fd
const median = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.floor(s.length / 2)]! : 0; };

/** dist/ must be at least as new as src/: the daemon runs the compiled library. */
function ensureBuilt(): void {
  const newest = (dir: string): number => Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs));
  let stale = true;
  try { stale = newest(join(ROOT, "src")) > statSync(join(ROOT, "dist", "index.js")).mtimeMs; } catch { /* no dist */ }
  if (!stale) return;
  process.stdout.write("soak: building dist/ (tsc -p tsconfig.build.json)\n");
  const r = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });
  if (r.status !== 0) throw new Error("build failed");
}

/**
 * A private copy of the compiled library (dist/, the addon, package.json) and the daemon, so a
 * rebuild of dist/ in the working tree during the run (other test runs do that) cannot change
 * the code that later generations load.
 */
function snapshot(): string {
  const dir = mkdtempSync(join(tmpdir(), "sdkit-soak-"));
  cpSync(join(ROOT, "dist"), join(dir, "dist"), { recursive: true });
  mkdirSync(join(dir, "build", "Release"), { recursive: true });
  cpSync(join(ROOT, "build", "Release", "sdkit.node"), join(dir, "build", "Release", "sdkit.node"));
  cpSync(join(ROOT, "package.json"), join(dir, "package.json"));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  mkdirSync(join(dir, "test", "soak"), { recursive: true });
  cpSync(join(ROOT, "test", "soak", "daemon.mjs"), join(dir, "test", "soak", "daemon.mjs"));
  return dir;
}

async function notifies(): Promise<Record<string, unknown>> {
  const sd = await import("../../src/index.js");
  const { objectEnv } = await import("../../src/env.js");
  const rx = new sd.NotifyReceiver({ path: `@sdkit-soak-${process.pid}` }).listen();
  let received = 0, bad = 0;
  rx.on("message", (m) => { if (m.fields.X_SOAK !== undefined) received++; else if (m.fields.BARRIER !== "1") bad++; });
  const env = objectEnv({ NOTIFY_SOCKET: rx.path });
  const samples: { sent: number; fds: number; rss: number }[] = [];
  const t0 = Date.now();
  const BATCH = 50;
  for (let sent = 0; sent < NOTIFIES;) {
    const k = Math.min(BATCH, NOTIFIES - sent);
    await Promise.all(Array.from({ length: k }, (_, i) => sd.notify({ X_SOAK: sent + i, STATUS: "soak" }, { env, waitMs: 30_000 })));
    sent += k;
    if (sent % 10_000 === 0 || sent === NOTIFIES) samples.push({ sent, fds: fdCount(), rss: process.memoryUsage().rss });
  }
  const seconds = (Date.now() - t0) / 1000;
  await sd.barrier(30_000, { env }); // every notify before it has been read and dispatched
  await new Promise((r) => setImmediate(r));
  rx.close();
  const first = samples[0]!, last = samples.at(-1)!;
  check(received === NOTIFIES && bad === 0, `notifies: ${received} of ${NOTIFIES} received, ${bad} unexpected`);
  check(samples.every((s) => s.fds === first.fds), `notifies: fd count moved ${samples.map((s) => s.fds).join(",")}`);
  check(last.rss - first.rss < 48 * MiB, `notifies: RSS grew ${((last.rss - first.rss) / MiB).toFixed(1)} MiB after the first 10,000`);
  return { count: NOTIFIES, received, seconds, perSecond: Math.round(NOTIFIES / seconds), fds: samples.map((s) => s.fds), rssMiB: samples.map((s) => +(s.rss / MiB).toFixed(1)) };
}

function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, agent: false, timeout: 30_000 }, (res) => {
      let b = "";
      res.on("data", (d) => (b += d)).on("end", () => resolve(Number(b)));
    });
    req.on("timeout", () => req.destroy(new Error("timeout"))).on("error", reject);
  });
}

async function replacements(root: string): Promise<Record<string, unknown>> {
  interface Ev { ev: string; pid: number; gen: number; port?: number; fds?: number; rss?: number; child?: number; message?: string }
  const events: Ev[] = [];
  let wake: (() => void) | undefined;
  const child = spawn(process.execPath, [join(root, "test", "soak", "daemon.mjs")], { stdio: ["ignore", "pipe", "inherit"], cwd: root });
  let buf = "";
  child.stdout!.on("data", (d) => {
    buf += d;
    for (let i; (i = buf.indexOf("\n")) >= 0; buf = buf.slice(i + 1)) {
      if (!buf.startsWith("{")) continue;
      const e = JSON.parse(buf.slice(0, i)) as Ev;
      events.push(e);
      if (e.ev === "ready") gens.push({ fds: e.fds!, rss: e.rss! });
      wake?.();
    }
  });
  const waitFor = async (pred: (e: Ev) => boolean, what: string): Promise<Ev> => {
    const end = Date.now() + 120_000;
    for (let hit = events.find(pred); ; hit = events.find(pred)) {
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`soak: no ${what}`);
      await new Promise<void>((r) => { wake = r; setTimeout(r, 500); });
    }
  };
  let cur = await waitFor((e) => e.ev === "ready", "first generation");
  const port = cur.port!;
  // Load: one client, a new connection per request, for the whole run.
  let stop = false, ok = 0;
  const errors: string[] = [];
  const load = (async () => { while (!stop) { try { await get(port); ok++; } catch (e) { errors.push((e as Error).message); } } })();
  const driverFds: number[] = [], driverRss: number[] = [];
  const t0 = Date.now();
  for (let i = 1; i <= REPLACEMENTS; i++) {
    process.kill(cur.pid, "SIGUSR2");
    const next = await waitFor((e) => e.ev === "ready" && e.gen === cur.gen + 1, `generation ${cur.gen + 1}`);
    await waitFor((e) => e.ev === "exit" && e.pid === cur.pid, `exit of generation ${cur.gen}`);
    cur = next;
    if (i % 100 === 0) {
      driverFds.push(fdCount());
      driverRss.push(process.memoryUsage().rss);
      process.stdout.write(`soak: ${i} replacements, ${ok} requests, ${errors.length} errors\n`);
    }
    events.splice(0, events.length - 10); // keep the recent ones only
  }
  const seconds = (Date.now() - t0) / 1000;
  stop = true;
  await load;
  process.kill(cur.pid, "SIGTERM");
  await new Promise((r) => child.stdout!.once("close", r));
  return { count: REPLACEMENTS, seconds, requests: ok, errors, driverFds, driverRssMiB: driverRss.map((r) => +(r / MiB).toFixed(1)) };
}

/** fd count and RSS of every generation, from its "ready" line. */
const gens: { fds: number; rss: number }[] = [];
ensureBuilt();
const startedFds = fdCount();
const n = await notifies();
process.stdout.write(`soak: notifies ${JSON.stringify(n)}\n`);
const copy = snapshot();
const r = await replacements(copy).finally(() => rmSync(copy, { recursive: true, force: true }));
const genFds = gens.map((g) => g.fds), genRss = gens.map((g) => g.rss);
check((r.errors as string[]).length === 0, `replacements: ${(r.errors as string[]).length} requests failed: ${(r.errors as string[]).slice(0, 5).join("; ")}`);
check(gens.length === REPLACEMENTS + 1, `replacements: ${gens.length} generations reported ready, expected ${REPLACEMENTS + 1}`);
check(genFds.every((f) => f === genFds[0]), `replacements: fd count per generation not flat: min ${Math.min(...genFds)} max ${Math.max(...genFds)}`);
const early = median(genRss.slice(0, 50)), late = median(genRss.slice(-50));
check(late < early * 1.25, `replacements: per-generation RSS grew from ${(early / MiB).toFixed(1)} to ${(late / MiB).toFixed(1)} MiB`);
const dF = r.driverFds as number[];
check(dF.every((f) => f === dF[0]), `driver fd count moved: ${dF.join(",")}`);
const result = {
  date: new Date().toISOString(), node: process.version, replacements: { ...r, generationFds: { first: genFds[0], min: Math.min(...genFds), max: Math.max(...genFds) },
    generationRssMiB: { first50Median: +(early / MiB).toFixed(1), last50Median: +(late / MiB).toFixed(1) } },
  notifies: n, driverFdsStart: startedFds, driverFdsEnd: fdCount(), failures, ok: failures.length === 0,
};
writeFileSync(join(ROOT, "test", "soak", "last-run.json"), JSON.stringify(result, null, 2) + "\n");
process.stdout.write(JSON.stringify(result, null, 2) + "\n");
process.exitCode = failures.length === 0 ? 0 : 1;
