/**
 * `reexec()`: replace this process's image in place with a fresh copy of the program, keeping
 * the pid (so systemd's MainPID never changes and no MAINPID= handover is needed) and the active
 * fds, which arrive at 3, 4, … with `LISTEN_FDS`/`LISTEN_FDNAMES`/`LISTEN_PID` like any activation.
 *
 * Nobody accepts while the new image starts, but the listening sockets stay open, so the kernel
 * keeps completing handshakes into the backlog and the new image accepts them: none is refused.
 * Connections this process had accepted are closed by execve (they are CLOEXEC), so drain the
 * servers first (`await drain(server)`, or `onShutdown({ replaceOn, replaceMode: "reexec" })`).
 *
 * The fds must sit at exactly 3..3+n-1 without FD_CLOEXEC. Those numbers are in use by Node
 * itself (epoll, signal pipes, …), so the occupants are saved to spare fds first: if execve
 * fails, every fd is put back and the process carries on as before, with an error.
 * @module
 */
import { accessSync, constants as fsConstants } from "node:fs";
import { constants as osConstants } from "node:os";
import { SdError } from "../errors.js";
import { K, check, native } from "../native/binding.js";
import { defaultPool } from "../registry/default.js";
import { envList, reexecEnv } from "./child-env.js";
import { isPendingSuccessor } from "./child.js";
import { ORIGINAL_CWD, currentProgram } from "./program.js";

/** Options of {@link reexec}. */
export interface ReexecOptions {
  /** Extra environment for the new image; `undefined` removes a variable. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Run this instead of the same program: `[file, ...args]`; file must be an absolute path. @default currentProgram() */
  argv?: readonly string[];
}

type ExecveFn = (file: string, args: string[], env: Record<string, string>) => never;

interface Saved { fd: number; copy: number; cloexec: boolean }

/** Throws if `reexec()` cannot work now, before anything is changed. */
export function checkReexec(opts: ReexecOptions = {}): void {
  if (isPendingSuccessor()) {
    throw new SdError("ERR_SD_NOT_READY", "reexec(): this process is a successor that has not signaled its parent yet: call signalParentTermination() first.");
  }
  const file = (opts.argv ?? currentProgram())[0] ?? "";
  if (!file.startsWith("/")) throw new SdError("ERR_SD_INVALID_ARG", `reexec(): the program must be an absolute path, got ${JSON.stringify(file)} (execve does not search PATH).`);
  try {
    accessSync(file, fsConstants.X_OK);
  } catch (e) {
    throw new SdError("ERR_SD_EXEC", `reexec(): ${file} is not executable (${(e as NodeJS.ErrnoException).code}); this process keeps running.`, { cause: e, path: file });
  }
}

/**
 * Re-executes this program in place (same pid) with the active registry fds (lock files
 * included) at 3, 4, …. Uses `process.execve` where Node has it (≥ 22.15), else the addon.
 * Does not return on success. On failure every fd and flag is restored and it throws
 * `ERR_SD_EXEC` (the process keeps running, but its servers are whatever the caller left).
 */
export function reexec(opts: ReexecOptions = {}): never {
  checkReexec(opts);
  const n = native();
  const fds = defaultPool().handoverFds();
  const program = [...(opts.argv ?? currentProgram())];
  const env = reexecEnv(process.env, fds, process.pid, opts.env);
  const top = 3 + fds.length;
  // 1. Copies of the sources above the target range, so placing one never clobbers another.
  const sources: number[] = [];
  const saved: Saved[] = [];
  const stdioFlags: { fd: number; fdFlags: number; flFlags: number }[] = [];
  const cwd = process.cwd();
  try {
    for (const f of fds) sources.push(check(n.dupCloexec(f.fd, top), "dup", `fd ${f.fd} (${f.name})`));
    // 2. Save whatever occupies 3..top-1 now (Node's own fds) to put it back on failure.
    for (let fd = 3; fd < top; fd++) {
      const flags = n.getFlags(fd, 0);
      if (flags < 0) continue;
      saved.push({ fd, copy: check(n.dupCloexec(fd, top), "dup", `fd ${fd}`), cloexec: (flags & K().FD_CLOEXEC!) !== 0 });
    }
  } catch (e) {
    for (const s of sources) n.close(s);
    for (const s of saved) n.close(s.copy);
    throw e;
  }
  let failure: unknown;
  try {
    // 3. Stdio as the new image expects it: inherited (Node marks 0-2 CLOEXEC) and blocking.
    for (const fd of [0, 1, 2]) {
      const fdFlags = n.getFlags(fd, 0), flFlags = n.getFlags(fd, 1);
      if (fdFlags < 0 || flFlags < 0) continue;
      stdioFlags.push({ fd, fdFlags, flFlags });
      n.setCloexec(fd, false);
      n.setFl(fd, flFlags & ~K().O_NONBLOCK!);
    }
    // 4. Place the fds (dup2 leaves them without FD_CLOEXEC) and go.
    sources.forEach((src, i) => check(n.dup2(src, 3 + i), "dup2", `fd ${src} -> ${3 + i}`));
    if (cwd !== ORIGINAL_CWD) process.chdir(ORIGINAL_CWD);
    const pexecve = (process as unknown as { execve?: ExecveFn }).execve;
    if (typeof pexecve === "function") pexecve(program[0]!, program, env);
    const r = n.execve(program[0]!, program, envList(env));
    failure = errnoName(r);
  } catch (e) {
    failure = e;
  }
  // Only reached when execve failed: undo everything.
  restore(saved, stdioFlags, top);
  for (const s of sources) n.close(s);
  if (process.cwd() !== cwd) process.chdir(cwd);
  const why = typeof failure === "string" ? failure : (failure as Error)?.message ?? String(failure);
  throw new SdError("ERR_SD_EXEC", `reexec(): execve ${program[0]} failed (${why}); every fd was restored and this process keeps running.`, typeof failure === "string" ? { syscall: "execve", sysCode: failure, path: program[0]! } : { cause: failure, path: program[0]! });
}

/** The errno name of a negative result, also for codes libuv has no name for (ENOEXEC). */
function errnoName(ret: number): string {
  for (const [name, num] of Object.entries(osConstants.errno)) if (num === -ret) return name;
  return `errno ${-ret}`;
}

/** Puts back what occupied 3..top-1 (closing what was free before) and the stdio flags. */
function restore(saved: Saved[], stdio: { fd: number; fdFlags: number; flFlags: number }[], top: number): void {
  const n = native();
  const occupied = new Set(saved.map((s) => s.fd));
  for (let fd = 3; fd < top; fd++) if (!occupied.has(fd)) n.close(fd);
  for (const s of saved) {
    n.dup2(s.copy, s.fd);
    if (s.cloexec) n.setCloexec(s.fd, true);
    n.close(s.copy);
  }
  for (const s of stdio) {
    n.setFl(s.fd, s.flFlags);
    n.setCloexec(s.fd, (s.fdFlags & K().FD_CLOEXEC!) !== 0);
  }
}
