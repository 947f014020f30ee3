/**
 * An isolated, real systemd *user* manager for tests (252 installed, or 254 extracted), started by
 * start-user-manager.sh in a private mount namespace and its own `sdtest-<pid>` cgroup, loading
 * only the units the test writes. Recipe and its reasons: shared/notes/real-systemd-harness.md §2a.
 *
 * Tear-down is never optional: `stop()` exits the manager and removes its cgroups, and a
 * process 'exit' / signal safety net SIGKILLs whatever a failed or aborted test left behind.
 * Several managers run side by side (each has its own runtime dir and cgroup).
 */
import { execFile, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import type { Socket } from "node:net";
import { removeManagerCgroups, removeManagerCgroupsSync } from "./cgroup.js";
import { systemd254Root } from "./systemd254.js";

export { systemd254Available, skipUnless254, systemd254Command } from "./systemd254.js";

const STARTER = join(dirname(fileURLToPath(import.meta.url)), "start-user-manager.sh");
const SYSTEMCTL_TIMEOUT_MS = 120_000;

export interface UserManager {
  /** XDG_RUNTIME_DIR of this manager. */
  rt: string;
  /** Where unit files go (the manager's only SYSTEMD_UNIT_PATH entry). */
  unitsDir: string;
  /** 252 or 254. */
  version: number;
  /** Manager pid; its cgroup is sdtest-<pid>. */
  pid: number;
  /** Environment for systemctl --user (XDG_RUNTIME_DIR, PATH, HOME, no pager). */
  env: Record<string, string>;
  /** Writes `unitsDir/name`, then daemon-reload. */
  writeUnit(name: string, content: string): Promise<void>;
  /** `systemctl --user ...args`; resolves with any exit code. */
  systemctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** `systemctl --user show -p ...`; unit "" = the manager itself (Version, SystemState...). */
  show(unit: string, props: string[]): Promise<Record<string, string>>;
  /** Polls `show` until `prop` matches; resolves with the last properties read. */
  waitFor(unit: string, prop: string, value: string | RegExp, timeoutMs?: number): Promise<Record<string, string>>;
  /** Exits the manager, kills leftovers, removes its cgroups and runtime dir. Idempotent. */
  stop(): Promise<void>;
}

/** Live managers: pid → scratch dir, for the safety net. */
const live = new Map<number, string>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function safetyNet(): void {
  for (const [pid, base] of live) {
    try {
      process.kill(pid, "SIGKILL");
    } catch { /* already gone */ }
    removeManagerCgroupsSync(pid);
    rmSync(base, { recursive: true, force: true });
  }
  live.clear();
}
function onSignal(sig: NodeJS.Signals): void {
  safetyNet();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, sig); // the default action again, now that our managers are gone
}
let netInstalled = false;
function installSafetyNet(): void {
  if (netInstalled) return;
  netInstalled = true;
  process.on("exit", safetyNet);
  for (const s of SIGNALS) process.on(s, onSignal);
}

/** The manager gets a minimal environment: it passes its own to every service it starts. */
function managerEnv(): Record<string, string> {
  const path = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
  const nodeDir = dirname(process.execPath);
  if (!path.includes(nodeDir)) path.unshift(nodeDir);
  return { PATH: path.join(":"), HOME: process.env.HOME ?? "/root", LANG: "C.UTF-8" };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for `p` at most `ms`; the timer is cleared so it never holds the process open. */
function within(p: Promise<void>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<void>((r) => (t = setTimeout(r, ms)))]).finally(() => clearTimeout(t));
}

function runSystemctl(env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile("systemctl", ["--user", ...args], { env, timeout: SYSTEMCTL_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") reject(new Error(`systemctl --user ${args.join(" ")}: ${err.message}`));
      else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** Parses `KEY=value` lines of `systemctl show` (values may contain '='). */
function parseShow(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Starts an isolated user manager and waits until it reports SystemState=running. */
export async function startUserManager(opts: { version?: 252 | 254 } = {}): Promise<UserManager> {
  const want = opts.version ?? 252;
  const sysroot = want === 254 ? await systemd254Root() : undefined;
  const base = mkdtempSync(join(tmpdir(), "sdtest-"));
  const rt = join(base, "rt");
  const log = join(base, "manager.log");
  const logFd = openSync(log, "a");
  // fd 3 is the owner pipe of the starter's watcher: EOF (stop(), or this process dying in any
  // way, SIGKILL included) makes it kill and remove whatever is left of this manager.
  const child = spawn("/bin/bash", [STARTER, rt, ...(sysroot ? [sysroot] : [])], {
    env: { ...managerEnv(), SDTEST_OWNER_FD: "3", SDTEST_CLEANUP_DIR: base }, stdio: ["ignore", logFd, logFd, "pipe"],
  });
  closeSync(logFd);
  const owner = child.stdio[3] as Socket;
  const ownerClosed = new Promise<void>((r) => owner.once("close", () => r()));
  owner.on("error", () => undefined);
  owner.resume();
  owner.unref();
  if (child.pid === undefined) {
    rmSync(base, { recursive: true, force: true });
    throw new Error(`could not spawn ${STARTER}`);
  }
  const pid = child.pid;
  installSafetyNet();
  live.set(pid, base);
  child.unref(); // a forgotten stop() must not keep the test process alive: 'exit' then cleans up
  let exited = false;
  const exitedP = new Promise<void>((r) => child.once("exit", () => { exited = true; r(); }));

  const env = { ...managerEnv(), XDG_RUNTIME_DIR: rt, SYSTEMD_PAGER: "", SYSTEMD_COLORS: "0" };
  const unitsDir = join(rt, "units");
  let stopping: Promise<void> | undefined;

  const m: UserManager = {
    rt, unitsDir, pid, env, version: want,
    systemctl: (...args) => runSystemctl(env, args),
    async show(unit, props) {
      const r = await runSystemctl(env, ["show", ...props.flatMap((p) => ["-p", p]), ...(unit ? [unit] : [])]);
      if (r.code !== 0) throw new Error(`systemctl --user show ${unit} failed (${r.code}): ${r.stderr.trim()}`);
      return parseShow(r.stdout);
    },
    async waitFor(unit, prop, value, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      const extra = ["ActiveState", "SubState", "Result"].filter((p) => p !== prop);
      for (;;) {
        const props = await m.show(unit, [prop, ...(unit ? extra : [])]);
        const v = props[prop] ?? "";
        if (typeof value === "string" ? v === value : value.test(v)) return props;
        if (Date.now() > deadline) {
          throw new Error(`${unit || "manager"}: ${prop} is ${JSON.stringify(v)}, not ${value} after ${timeoutMs} ms (${JSON.stringify(props)})`);
        }
        await sleep(50);
      }
    },
    async writeUnit(name, content) {
      await writeFile(join(unitsDir, name), content);
      const r = await runSystemctl(env, ["daemon-reload"]);
      if (r.code !== 0) throw new Error(`daemon-reload after writing ${name} failed (${r.code}): ${r.stderr.trim()}`);
    },
    stop() {
      stopping ??= (async () => {
        try {
          if (!exited) {
            // A clean exit stops every unit first; fall back to SIGKILL if it hangs or fails.
            await runSystemctl(env, ["exit"]).catch(() => undefined);
            await within(exitedP, 20_000);
            if (!exited) {
              try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
              await within(exitedP, 10_000);
            }
          }
          await removeManagerCgroups(pid);
        } finally {
          live.delete(pid);
          rmSync(base, { recursive: true, force: true });
          // Release the watcher; its end closing (it exits) closes ours.
          owner.end();
          await within(ownerClosed, 10_000);
        }
      })();
      return stopping;
    },
  };

  try {
    // Ready when the manager answers on $RT/systemd/private and has reached its default target.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exited) throw new Error(`manager exited during start-up: ${readFileSync(log, "utf8").trim() || "(no output)"}`);
      const r = await runSystemctl(env, ["show", "-p", "SystemState", "--value"]).catch(() => undefined);
      if (r?.code === 0 && /^(running|degraded)$/.test(r.stdout.trim())) break;
      if (Date.now() > deadline) throw new Error(`manager ${pid} not running after 60 s: ${r?.stdout ?? ""}${r?.stderr ?? ""}`);
      await sleep(50);
    }
    const version = Number(/^(\d+)/.exec((await m.show("", ["Version"])).Version ?? "")?.[1]);
    if (version !== want) throw new Error(`asked for systemd ${want}, the manager reports ${version}`);
    return m;
  } catch (e) {
    await m.stop().catch(() => undefined);
    throw e;
  }
}

/**
 * node:test glue: starts a manager in `before` and always stops it in `after` (which node:test
 * runs even when tests fail). Call at the top of a file or inside `describe`; the getter throws
 * if used before the hook ran.
 */
export function useUserManager(opts: { version?: 252 | 254 } = {}): () => UserManager {
  let m: UserManager | undefined;
  before(async () => { m = await startUserManager(opts); }, { timeout: 180_000 });
  after(async () => { await m?.stop(); }, { timeout: 180_000 });
  return () => {
    if (!m) throw new Error("useUserManager: the manager is not started (before hook failed or not run yet)");
    return m;
  };
}
