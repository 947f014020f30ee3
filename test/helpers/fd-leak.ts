/**
 * Asserts that a scenario leaves this process's open fds exactly as it found them.
 * Usage: `await assertNoFdLeak(async () => { ... })`, or `const done = fdSnapshot(); ...; done()`.
 */
import { readdirSync, readlinkSync } from "node:fs";
import assert from "node:assert/strict";

/** fd -> what it points to, for the open fds of `pid` (default: this process). */
export function openFds(pid: number | "self" = "self"): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of readdirSync(`/proc/${pid}/fd`)) {
    try { out.set(Number(name), readlinkSync(`/proc/${pid}/fd/${name}`)); } catch { /* closed while listing (readdir's own fd) */ }
  }
  return out;
}

/** Takes a snapshot; the returned function asserts nothing was opened or closed since. */
export function fdSnapshot(): () => void {
  const before = openFds();
  return () => {
    const after = openFds();
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
