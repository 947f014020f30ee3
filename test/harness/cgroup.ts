/**
 * The per-manager cgroups `sdtest-<pid>` that start-user-manager.sh creates before the manager
 * runs (so the manager never adopts the host's root cgroup). Tear-down kills whatever is still
 * inside them and removes them depth-first. Both an async form (for `stop()`) and a sync form
 * (for the process 'exit' safety net, where nothing can be awaited) share the same steps.
 */
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const CGROOT = "/sys/fs/cgroup";

/**
 * The hierarchies the starter uses, mirroring its own choice: pure cgroup2 (`/sys/fs/cgroup`
 * itself), or on a hybrid host the cgroup2 `unified` mount plus the `name=systemd` v1 one.
 */
export function cgroupHierarchies(): string[] {
  if (existsSync(join(CGROOT, "cgroup.controllers"))) return [CGROOT];
  return ["unified", "systemd"].map((h) => join(CGROOT, h)).filter((d) => existsSync(join(d, "cgroup.procs")));
}

/** The `sdtest-<pid>` directories of one manager that still exist. */
export function managerCgroups(pid: number): string[] {
  return cgroupHierarchies().map((h) => join(h, `sdtest-${pid}`)).filter((d) => existsSync(d));
}

/** Every directory of a cgroup tree, children before parents (the order rmdir needs). */
function depthFirst(dir: string): string[] {
  const out: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    try {
      if (statSync(p).isDirectory()) out.push(...depthFirst(p));
    } catch { /* removed meanwhile */ }
  }
  out.push(dir);
  return out;
}

/** Pids still in a manager's cgroups (manager, services, their children). */
export function cgroupPids(pid: number): number[] {
  const pids = new Set<number>();
  for (const top of managerCgroups(pid)) {
    for (const d of depthFirst(top)) {
      try {
        for (const l of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n")) if (l) pids.add(Number(l));
      } catch { /* removed meanwhile */ }
    }
  }
  return [...pids];
}

/**
 * One tear-down pass: SIGKILL everything inside (cgroup.kill where the kernel has it, and each
 * listed pid, which only our manager and its descendants can be in), then rmdir depth-first.
 * Returns true when no directory is left.
 */
function teardownPass(pid: number): boolean {
  for (const top of managerCgroups(pid)) {
    try {
      writeFileSync(join(top, "cgroup.kill"), "1");
    } catch { /* v1 hierarchy, or an older kernel */ }
  }
  for (const p of cgroupPids(pid)) {
    try {
      process.kill(p, "SIGKILL");
    } catch { /* already gone */ }
  }
  for (const top of managerCgroups(pid)) {
    for (const d of depthFirst(top)) {
      try {
        rmdirSync(d);
      } catch { /* busy until its processes are reaped; retried */ }
    }
  }
  return managerCgroups(pid).length === 0;
}

function describeLeft(pid: number): string {
  return `cgroups ${managerCgroups(pid).join(", ")} still hold pids [${cgroupPids(pid).join(", ")}]`;
}

/** Kills leftovers and removes `sdtest-<pid>` everywhere; throws if it cannot within `timeoutMs`. */
export async function removeManagerCgroups(pid: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!teardownPass(pid)) {
    if (Date.now() > deadline) throw new Error(`tear-down of manager ${pid} failed: ${describeLeft(pid)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The same, synchronously (for process 'exit'); gives up quietly after `timeoutMs`. */
export function removeManagerCgroupsSync(pid: number, timeoutMs = 5_000): boolean {
  const deadline = Date.now() + timeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (!teardownPass(pid)) {
    if (Date.now() > deadline) {
      process.stderr.write(`[user-manager safety net] ${describeLeft(pid)}\n`);
      return false;
    }
    Atomics.wait(sleeper, 0, 0, 25);
  }
  return true;
}
