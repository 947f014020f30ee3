/**
 * `npm run bench [-- --quick] [-- --only notify,activation,throughput,replacement,fdstore]`
 *
 * Runs the scenarios one after the other (each interleaves its competitors), then writes
 * `latest.json` and `latest.md` and prints the Markdown. A full run writes to bench/results/
 * (committed); `--quick` writes to bench/results/quick/ (ignored by git) so that a quick check
 * never overwrites the published numbers. `--out DIR` overrides either.
 *
 * Environment: BENCH_RECEIVER=python forces the python3 notify receiver.
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { installSafetyNet, killAll } from "./lib/proc.js";
import { renderMarkdown, type Meta } from "./lib/report.js";
import { loadSdkit } from "./lib/sdkit.js";
import type { Ctx, Scenario, ScenarioResult } from "./lib/types.js";
import { activationScenario } from "./scenarios/activation.js";
import { fdstoreScenario } from "./scenarios/fdstore.js";
import { notifyScenario } from "./scenarios/notify.js";
import { replacementScenario } from "./scenarios/replacement.js";
import { throughputScenario } from "./scenarios/throughput.js";

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, "..");

const SCENARIOS: [string, string, Scenario][] = [
  ["notify", "1. Notify", notifyScenario],
  ["activation", "2. Activation start-up", activationScenario],
  ["throughput", "3. Inherited vs fresh listener throughput", throughputScenario],
  ["replacement", "4. Replacement under load", replacementScenario],
  ["fdstore", "5. FD-store restart under systemd", fdstoreScenario],
];

function parseArgs(argv: string[]): { quick: boolean; only: Set<string> | undefined; out: string | undefined } {
  let quick = false, only: Set<string> | undefined, out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") quick = true;
    else if (a === "--only") only = new Set(argv[++i]?.split(",") ?? []);
    else if (a.startsWith("--only=")) only = new Set(a.slice(7).split(","));
    else if (a === "--out") out = argv[++i];
    else if (a === "--help" || a === "-h") {
      console.log(`usage: npm run bench [-- --quick] [--only ${SCENARIOS.map((s) => s[0]).join(",")}] [--out DIR]`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  for (const o of only ?? []) if (!SCENARIOS.some((s) => s[0] === o)) throw new Error(`unknown scenario ${o}`);
  return { quick, only, out };
}

const log = (m: string): void => void process.stderr.write(`${m}\n`);

function version(cmd: string, args: string[], re: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return re.exec(`${r.stdout ?? ""}${r.stderr ?? ""}`)?.[1] ?? "not installed";
}

function pkgVersion(dir: string, name: string): string {
  try {
    return (JSON.parse(readFileSync(join(dir, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

function setup(): void {
  if (existsSync(join(benchDir, "node_modules", ".package-lock.json"))) return;
  log("bench: first run, installing the competitors (bench/setup.sh)");
  const r = spawnSync("bash", [join(benchDir, "setup.sh")], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) log("bench: setup failed; competitors that are missing will show as failed rows");
}

function readPrevious(file: string): ScenarioResult[] {
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { results: ScenarioResult[] }).results;
  } catch {
    return [];
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const loadStart = os.loadavg()[0]!;
  installSafetyNet();
  setup();
  const outDir = resolve(args.out ?? (args.quick ? join(benchDir, "results", "quick") : join(benchDir, "results")));
  const chartsDir = join(outDir, "charts");
  mkdirSync(chartsDir, { recursive: true });
  const sdkit = await loadSdkit(root, log);
  if (loadStart > 1) log(`bench: warning: the 1-min load average is ${loadStart.toFixed(2)} on ${os.cpus().length} cores; other work will skew the numbers`);
  log(`bench: ${args.quick ? "quick" : "full"} run; sdkit ${sdkit.loaded ? `loaded from dist (${Object.entries(sdkit.features).filter(([, v]) => v).map(([k]) => k).join(", ") || "no measured APIs yet"})` : `NOT loaded: ${sdkit.error}`}`);
  const ctx: Ctx = { quick: args.quick, outDir, chartsDir, sdkit, root, benchDir, log };
  // With --only, the other scenarios' previous results (same output dir) are kept, each with
  // the date it was measured, so a partial run never silently drops or relabels numbers.
  const previous = args.only ? readPrevious(join(outDir, "latest.json")) : [];
  const results: ScenarioResult[] = [];
  for (const [id, title, fn] of SCENARIOS) {
    if (args.only && !args.only.has(id)) {
      const old = previous.find((r) => r.id === id);
      if (old) results.push(old);
      continue;
    }
    log(`bench: ${title}`);
    for (const f of readdirSync(chartsDir)) if (f.startsWith(id) && f.endsWith(".svg")) rmSync(join(chartsDir, f));
    const t0 = Date.now();
    const ranAt = new Date().toISOString();
    const load0 = os.loadavg()[0]!;
    try {
      results.push({ ...(await fn(ctx)), seconds: (Date.now() - t0) / 1000, ranAt, load: [load0, os.loadavg()[0]!] });
    } catch (e) {
      log(`bench: ${id} failed: ${(e as Error).stack ?? String(e)}`);
      results.push({ id, title, tables: [], targets: [], notes: [], charts: [], data: null, error: (e as Error).message, seconds: (Date.now() - t0) / 1000, ranAt, load: [load0, os.loadavg()[0]!] });
    } finally {
      killAll();
    }
    log(`bench: ${id} took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const meta: Meta = {
    date: new Date().toISOString(),
    mode: args.quick ? "quick" : "full",
    machine: `${os.type()} ${os.arch()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? "?"}`,
    kernel: os.release(),
    node: process.versions.node,
    systemd: version("systemctl", ["--version"], /systemd (\d+)/),
    sdkit: `${sdkit.version} (dist${sdkit.loaded ? "" : ", not loaded"})`,
    competitors: {
      "sd-notify": pkgVersion(benchDir, "sd-notify"),
      "unix-dgram": pkgVersion(benchDir, "unix-dgram"),
      "pm2": pkgVersion(benchDir, "pm2"),
      "autocannon": pkgVersion(root, "autocannon"),
      "wrk": version("wrk", ["-v"], /wrk ([^\s]+)/),
    },
    seconds: (Date.now() - started) / 1000,
    load: [loadStart, os.loadavg()[0]!],
  };
  const md = renderMarkdown(meta, results);
  writeFileSync(join(outDir, "latest.json"), `${JSON.stringify({ meta, sdkitFeatures: sdkit.features, results }, null, 2)}\n`);
  writeFileSync(join(outDir, "latest.md"), md);
  process.stdout.write(`${md}\n`);
  log(`bench: wrote ${join(outDir, "latest.json")} and latest.md in ${meta.seconds.toFixed(0)} s`);
}

main().then(() => process.exit(0), (e: unknown) => {
  log(`bench: ${(e as Error).stack ?? String(e)}`);
  killAll();
  process.exit(1);
});
