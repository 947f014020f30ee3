/**
 * Asserts that a scenario leaves this process's open fds exactly as it found them.
 * Usage: `await assertNoFdLeak(async () => { ... })`, or `const done = fdSnapshot(); ...; done()`.
 */
import { readdirSync, readlinkSync } from "node:fs";
import assert from "node:assert/strict";

/**
 * tsx (the TypeScript loader the tests run under) writes its compile cache asynchronously to
 * <tmpdir>/tsx-<uid>/: those short-lived fds belong to the loader, not to the code under test,
 * and with a cold cache (a fresh clone, i.e. CI) they come and go during a scenario.
 */
const LOADER_CACHE = /\/tsx-\d+(\/|$)/;

/** fd -> what it points to, for the open fds of `pid` (default: this process). */
export function openFds(pid: number | "self" = "self"): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of readdirSync(`/proc/${pid}/fd`)) {
    try { out.set(Number(name), readlinkSync(`/proc/${pid}/fd/${name}`)); } catch { /* closed while listing (readdir's own fd) */ }
  }
  return out;
}

/** The open fds of this process, without the test loader's own cache files. */
function scenarioFds(): Map<number, string> {
  const out = openFds();
  for (const [fd, target] of out) if (LOADER_CACHE.test(target)) out.delete(fd);
  return out;
}

/** Takes a snapshot; the returned function asserts nothing was opened or closed since. */
export function fdSnapshot(): () => void {
  const before = scenarioFds();
  return () => {
    const after = scenarioFds();
    const opened = [...after].filter(([fd, t]) => before.get(fd) !== t).map(([fd, t]) => `${fd} -> ${t}`);
    const closed = [...before].filter(([fd]) => !after.has(fd)).map(([fd, t]) => `${fd} -> ${t}`);
    assert.deepEqual({ opened, closed }, { opened: [], closed: [] }, "the scenario leaked or closed fds");
  };
}

/** Runs `fn` and asserts /proc/self/fd is unchanged afterwards (after letting close callbacks run). */
export async function assertNoFdLeak<T>(fn: () => T | Promise<T>): Promise<T> {
  const check = fdSnapshot();
  const r = await fn();
  await new Promise((res) => setImmediate(res));
  await new Promise((res) => setImmediate(res));
  check();
  return r;
}
