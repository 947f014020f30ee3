// Spawns `sleep` as an unrelated child and reads what it inherited, once it is asleep: right
// after exec, the dynamic loader and libc's locale code briefly hold files of their own (which
// would look like leaks). No node:test import here: test/fixtures/fault-probe.ts uses it too.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

/** clock_nanosleep / nanosleep on x86_64 and aarch64. */
const SLEEP_SYSCALLS = new Set(["230", "35", "115", "101"]);

function asleep(pid: number): boolean {
  try { return SLEEP_SYSCALLS.has(readFileSync(`/proc/${pid}/syscall`, "utf8").split(" ")[0]!); } catch { return false; }
}

/** A sleeping child's fd table (fd → target) and its environment, then it is killed. */
export async function inspectSleeper(): Promise<{ pid: number; fds: Map<number, string>; environ: string[] }> {
  const c = spawn("/bin/sleep", ["30"], { stdio: "ignore" });
  await new Promise((resolve, reject) => { c.once("spawn", resolve); c.once("error", reject); });
  const pid = c.pid!;
  for (let i = 0; i < 500 && !asleep(pid); i++) await new Promise((r) => setTimeout(r, 5));
  const fds = new Map<number, string>();
  for (const f of readdirSync(`/proc/${pid}/fd`)) {
    try { fds.set(Number(f), readlinkSync(`/proc/${pid}/fd/${f}`)); } catch { /* gone meanwhile */ }
  }
  const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
  c.kill("SIGKILL");
  await new Promise((r) => c.once("exit", r));
  return { pid, fds, environ };
}
