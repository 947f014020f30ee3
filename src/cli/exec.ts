/**
 * Replaces this Node process with another program (execve), keeping the pid, with chosen fds
 * placed at 3, 4, … — what systemd-socket-activate does after it forks nothing. Node 20 has no
 * process.execve, so this uses the addon.
 * @module
 */
import { accessSync, readdirSync, statSync, constants as fsc } from "node:fs";
import { join } from "node:path";
import { native, K } from "../native/binding.js";
import { SdError, errnoError } from "../errors.js";

/** execvp's search: a name with a slash is used as is, else the first executable file in PATH. */
export function resolveProgram(name: string, path = process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"): string {
  if (name.includes("/")) return name;
  for (const dir of path.split(":")) {
    const candidate = join(dir || ".", name);
    try {
      if (statSync(candidate).isFile()) { accessSync(candidate, fsc.X_OK); return candidate; }
    } catch { /* not here */ }
  }
  throw new SdError("ERR_SD_EXEC", `${name}: command not found in PATH`, { path: name });
}

/**
 * Places `fds` at 3.. (without FD_CLOEXEC), marks every other fd above 2 close-on-exec, makes
 * 0–2 inheritable and blocking again (Node sets O_CLOEXEC on them and may set O_NONBLOCK), and
 * execs. Returns only on failure, with an SdError — and then this process's own fds from 3 on
 * may have been replaced, so the caller must only report the error and exit.
 */
export function execInPlace(file: string, argv: string[], env: string[], fds: number[]): SdError {
  const n = native();
  const c = K();
  const path = resolveProgram(file);
  accessSync(path, fsc.X_OK); // fail before touching any fd when we can tell it will fail
  // First move every source above the target range, so no dup2 below overwrites a source.
  const high = fds.map((fd) => n.dupCloexec(fd, 3 + fds.length));
  const failed = high.find((h) => h < 0);
  if (failed !== undefined) return errnoError(failed, "fcntl", "F_DUPFD_CLOEXEC");
  // Everything else we hold (Node's epoll, pipes, fds inherited without CLOEXEC) must not leak
  // into the program: systemd-socket-activate closes all other fds for the same reason.
  for (const name of readdirSync("/proc/self/fd")) {
    const fd = Number(name);
    if (fd > 2) n.setCloexec(fd, true);
  }
  for (let i = 0; i < high.length; i++) {
    const r = n.dup2(high[i]!, 3 + i);
    if (r < 0) return errnoError(r, "dup2");
  }
  for (const fd of [0, 1, 2]) {
    n.setCloexec(fd, false);
    const fl = n.getFlags(fd, 1);
    if (fl >= 0 && fl & c.O_NONBLOCK!) n.setFl(fd, fl & ~c.O_NONBLOCK!);
  }
  const r = n.execve(path, argv, env);
  return errnoError(r, "execve", path);
}
