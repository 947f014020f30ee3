/**
 * The pure half of starting a successor: from the parent's environment and the fds to hand
 * over, compute what `child_process.spawn` needs (program, environment, stdio array) so that the
 * child sees the fds at 3, 4, … with `LISTEN_FDS`, `LISTEN_FDNAMES` and `LISTEN_PID` set to its
 * own pid, exactly as under systemd socket activation. No side effects: tests feed it anything.
 * @module
 */
import { LISTEN_FDS_START, LISTEN_VARS } from "../activation/listen-fds.js";

/** The readiness pipe's write end in the child (decimal fd number). Private to sdkit. */
export const READY_FD_VAR = "SDKIT_READY_FD";
/** The pid of the process waiting for the readiness byte. Private to sdkit. */
export const PARENT_PID_VAR = "SDKIT_PARENT_PID";
/** Set in processes started by `startWorkers()`: the worker's slot, 1..n. */
export const WORKER_VAR = "SDKIT_WORKER";

/**
 * Variables a successor never inherits: the activation protocol (recomputed for the child),
 * `WATCHDOG_PID` (names the parent; without it systemd's rule "absent = for us" lets the child
 * ping once it is the main process) and sdkit's own handshake variables (which would otherwise
 * pile up across generations, gone/sd bug 10). `NOTIFY_SOCKET` and `WATCHDOG_USEC` stay: the
 * successor becomes the service's main process.
 */
export const STRIPPED_VARS: readonly string[] = [...LISTEN_VARS, "WATCHDOG_PID", READY_FD_VAR, PARENT_PID_VAR];

/**
 * The exec shim: `spawn` fixes the environment before fork, so the child's pid is unknown when
 * it is built. `sh -c` sets `LISTEN_PID` to its own pid (`$$`) and execs the program in place,
 * which keeps that pid. `"$0" "$@"` passes every argument through unchanged.
 */
export const LISTEN_PID_SHIM = 'LISTEN_PID=$$ exec "$0" "$@"';
/** Without fds there is nothing to claim: plain exec, no `LISTEN_PID`. */
export const PLAIN_SHIM = 'exec "$0" "$@"';
/** Absolute, so neither `PATH` nor the cwd decides which shell runs. */
export const SHELL = "/bin/sh";

/** One fd to hand over, under its name (`LISTEN_FDNAMES` entry). */
export interface NamedFd { readonly name: string; readonly fd: number }

/** Inputs of {@link childSpawnSpec}. */
export interface ChildSpecInput {
  /** The parent's environment (usually `process.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Extra variables for the child; `undefined` removes one. Cannot override the protocol variables. */
  readonly extraEnv?: Readonly<Record<string, string | undefined>> | undefined;
  /** fds to place at 3, 4, … in this order. */
  readonly fds: readonly NamedFd[];
  /** The program and its arguments: `[file, ...args]` (file: an absolute path or a name in `PATH`). */
  readonly program: readonly string[];
  /** The readiness pipe's write end in the parent; placed right after the fds. */
  readonly readyFd?: number | undefined;
  /** The pid that waits for readiness (this process). Required with `readyFd`. */
  readonly parentPid?: number | undefined;
}

/** Arguments for `spawn(file, args, { env, stdio })`. */
export interface ChildSpec {
  readonly file: string;
  readonly args: string[];
  readonly env: Record<string, string>;
  readonly stdio: ("inherit" | number)[];
  /** The fd number the readiness pipe gets in the child, if any. */
  readonly childReadyFd?: number;
}

/** Copies `env` without the stripped variables and without `undefined` values. */
function baseEnv(env: Readonly<Record<string, string | undefined>>, extra?: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  // Stripped after `extra` too: a caller cannot smuggle in a stale LISTEN_PID or WATCHDOG_PID.
  for (const k of STRIPPED_VARS) delete out[k];
  return out;
}

function fdNames(fds: readonly NamedFd[]): string {
  return fds.map((f) => f.name).join(":");
}

/**
 * Computes how to spawn a successor: `sh -c` shim + program, the environment and the stdio
 * array (`inherit` for 0-2, then the fds, then the readiness pipe).
 */
export function childSpawnSpec(input: ChildSpecInput): ChildSpec {
  if (input.program.length === 0 || input.program[0] === "") throw new TypeError("program must name a file to run");
  if ((input.readyFd === undefined) !== (input.parentPid === undefined)) throw new TypeError("readyFd and parentPid go together");
  const env = baseEnv(input.env, input.extraEnv);
  const n = input.fds.length;
  if (n > 0) {
    env.LISTEN_FDS = String(n);
    env.LISTEN_FDNAMES = fdNames(input.fds);
  }
  const stdio: ("inherit" | number)[] = ["inherit", "inherit", "inherit", ...input.fds.map((f) => f.fd)];
  let childReadyFd: number | undefined;
  if (input.readyFd !== undefined) {
    childReadyFd = LISTEN_FDS_START + n;
    stdio.push(input.readyFd);
    env[READY_FD_VAR] = String(childReadyFd);
    env[PARENT_PID_VAR] = String(input.parentPid);
  }
  const shim = n > 0 ? LISTEN_PID_SHIM : PLAIN_SHIM;
  return {
    file: SHELL,
    args: ["-c", shim, ...input.program],
    env,
    stdio,
    ...(childReadyFd !== undefined ? { childReadyFd } : {}),
  };
}

/**
 * The environment for an in-place re-exec of process `pid` with `fds` already at 3, 4, ….
 * Unlike a successor, the pid does not change, so `WATCHDOG_PID` (if any) stays valid and is kept.
 */
export function reexecEnv(env: Readonly<Record<string, string | undefined>>, fds: readonly NamedFd[], pid: number, extra?: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const watchdogPid = env.WATCHDOG_PID;
  const out = baseEnv(env, extra);
  if (watchdogPid !== undefined && watchdogPid === String(pid)) out.WATCHDOG_PID = watchdogPid;
  if (fds.length > 0) {
    out.LISTEN_PID = String(pid);
    out.LISTEN_FDS = String(fds.length);
    out.LISTEN_FDNAMES = fdNames(fds);
  }
  return out;
}

/** Converts an environment object to execve's `KEY=value` list. */
export function envList(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}
