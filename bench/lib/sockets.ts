/**
 * Listening TCP sockets made the way a service manager makes them: a bare socket/bind/listen
 * in this process, with no libuv handle on it — so the driver never accepts a connection
 * itself — passed to a child at fd 3, 4, … like `LISTEN_FDS`. Uses sdkit's addon directly
 * (its sources, through tsx): the bench's own plumbing, not a measured path.
 * @module
 */
import type { ChildProcess } from "node:child_process";
import { K, native } from "../../src/native/binding.js";
import { start } from "./proc.js";

/** Node's own listen() backlog, so inherited and fresh listeners differ in nothing else. */
export const NODE_BACKLOG = 511;

export interface RawListener { fd: number; port: number }

/** A CLOEXEC TCP listener on 127.0.0.1 (`port` 0 = any free port). */
export function rawTcpListener(port = 0, backlog = NODE_BACKLOG): RawListener {
  const n = native();
  const c = K();
  const fd = n.socket(c.AF_INET!, c.SOCK_STREAM! | c.SOCK_CLOEXEC!, 0);
  if (fd < 0) throw new Error(`socket: errno ${-fd}`);
  try {
    n.setsockopt(fd, c.SOL_SOCKET!, c.SO_REUSEADDR!, 1);
    let r = n.bind(fd, { family: c.AF_INET!, address: "127.0.0.1", port });
    if (r < 0) throw new Error(`bind 127.0.0.1:${port}: errno ${-r}`);
    r = n.listen(fd, backlog);
    if (r < 0) throw new Error(`listen: errno ${-r}`);
    const a = n.getsockname(fd);
    if (typeof a === "number" || a.port === undefined) throw new Error(`getsockname: ${String(a)}`);
    return { fd, port: a.port };
  } catch (e) {
    n.close(fd);
    throw e;
  }
}

export function closeFd(fd: number): void {
  native().close(fd);
}

/** A free TCP port on 127.0.0.1 (bound and released; fine on a machine we control). */
export function freePort(): number {
  const l = rawTcpListener(0);
  closeFd(l.fd);
  return l.port;
}

/**
 * Starts `argv` the way systemd starts a socket-activated service: `fds` at 3, 4, …,
 * LISTEN_FDS / LISTEN_FDNAMES set and LISTEN_PID = the child's own pid (through
 * `sh -c 'LISTEN_PID=$$ exec …'`, since spawn fixes the environment before fork).
 */
export function spawnActivated(argv: readonly string[], fds: readonly number[], names: readonly string[], env: NodeJS.ProcessEnv = process.env, stdin: "ignore" | "pipe" = "ignore"): ChildProcess {
  const e: NodeJS.ProcessEnv = { ...env, LISTEN_FDS: String(fds.length), LISTEN_FDNAMES: names.join(":") };
  delete e.LISTEN_PID;
  return start("/bin/sh", ["-c", 'LISTEN_PID=$$ exec "$0" "$@"', ...argv], { env: e, stdio: [stdin, "pipe", "pipe", ...fds] });
}
