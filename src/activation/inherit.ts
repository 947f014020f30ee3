/**
 * The side-effecting half of activation, done once per process: parse the environment, mark
 * every inherited fd close-on-exec, remove the variables (always, even when parsing fails, as
 * libsystemd does) and remember the outcome. The state lives on a global symbol so that several
 * copies of sdkit in one process (two versions, ESM and CJS) still share one registry.
 * @module
 */
import { readlinkSync } from "node:fs";
import { ActivationError, SdError } from "../errors.js";
import { processEnv, type Env } from "../env.js";
import { K, native } from "../native/binding.js";
import { statIdentity } from "../util/fd-identity.js";
import { LISTEN_FDS_START, LISTEN_VARS, parseListenCount, parseListenNames, type ListenFds } from "./listen-fds.js";

/** Activation settings; change them before the first call that reads the environment. */
export interface ActivationOptions {
  /** Accept fds without `LISTEN_PID` (for dev tools). Default false, like libsystemd. */
  relaxed?: boolean;
  /** Remove `LISTEN_*` from `process.env` after reading. Default true. */
  unsetEnv?: boolean;
}

interface State { options: Required<ActivationOptions>; result?: ListenFds; error?: SdError; ids?: (string | undefined)[] }

const KEY = Symbol.for("sdkit.activation.v1");
const g = globalThis as unknown as Record<symbol, State | undefined>;
function state(): State {
  return (g[KEY] ??= { options: { relaxed: false, unsetEnv: true } });
}

/** Sets activation options. Throws if the environment was already read. */
export function configureActivation(opts: ActivationOptions): void {
  const s = state();
  if (s.result || s.error) {
    throw new SdError("ERR_SD_INVALID_ARG", "configureActivation() must run before the first call that reads LISTEN_* (listenFdsWithNames, fileWith, listen*): call it at the top of your entry point.");
  }
  s.options = { ...s.options, ...opts };
}

function ownPidfdInode(): bigint | undefined {
  const r = native().pidfdInode(process.pid);
  const PIDFS_MAGIC = 0x50494446;
  return typeof r === "number" || r[1] !== PIDFS_MAGIC ? undefined : r[0];
}

/**
 * Node opens its own fds right after the inherited ones, libuv's epoll first. So when a
 * supervisor announces more fds than it passed, the range reaches an epoll/eventfd of Node's
 * event loop: adopting (or later closing, via cleanup()) it would wreck the process. A C
 * program has no such neighbours, which is why libsystemd needs no such check.
 */
function assertNotNodeInternal(fd: number, count: number, mode: number, c: Record<string, number>): void {
  // Sockets and FIFOs (nearly every passed fd) cannot be an epoll or eventfd: spare the readlink.
  const fmt = mode & c.S_IFMT!;
  if (fmt === c.S_IFSOCK || fmt === c.S_IFIFO) return;
  let target: string;
  try { target = readlinkSync(`/proc/self/fd/${fd}`); } catch { return; }
  if (/^anon_inode:\[(eventpoll|eventfd)\]$/.test(target)) {
    throw new ActivationError("ERR_SD_ACTIVATION", `LISTEN_FDS=${count} but fd ${fd} is Node.js's own ${target}, not a passed fd: the supervisor passed fewer fds than it announced.`, { fd });
  }
}

/**
 * Parses `env` and applies the result, in libsystemd's order: FD_CLOEXEC on every announced fd
 * (any fd that is not open is an error), then the names check, and the variables removed
 * whatever happens. Exported for tests, which run it over an injected {@link Env}.
 */
export function applyActivation(env: Env, opts: Required<ActivationOptions>): ListenFds & { ids: string[] } {
  try {
    const pidfdInode = env.get("LISTEN_PIDFDID") !== undefined ? ownPidfdInode() : undefined;
    const count = parseListenCount(env, { relaxed: opts.relaxed, ...(pidfdInode !== undefined ? { pidfdInode } : {}) });
    const ids: string[] = [];
    const n = native();
    const c = K();
    const st = new Float64Array(3); // [mode, dev, ino], refilled per fd
    for (let i = 0; i < count; i++) {
      const fd = LISTEN_FDS_START + i;
      const r = n.fstat(fd, st);
      if (r === 0) assertNotNodeInternal(fd, count, st[0]!, c);
      if (r < 0 || n.setCloexec(fd, true) < 0) {
        throw new ActivationError("ERR_SD_ACTIVATION", `LISTEN_FDS=${count} but fd ${fd} is not open: the supervisor passed fewer fds than it announced.`, { fd });
      }
      // Identities now, while fds 3.. are still what the supervisor passed: the registry checks
      // them before adopting or closing, because the app may close one and reuse its number.
      ids.push(statIdentity(st));
    }
    // Only now: a names mismatch must not leave the fds inheritable by our children.
    return { count, names: count === 0 ? [] : parseListenNames(env, count), ids };
  } finally {
    if (opts.unsetEnv) for (const v of LISTEN_VARS) env.unset(v);
  }
}

/**
 * `sd_listen_fds_with_names`: the number of fds passed from fd 3 on, and their names.
 * Parsed once, lazily; later calls return the same answer (or throw the same error).
 * Not under socket activation → `{ count: 0, names: [] }`.
 */
export function listenFdsWithNames(): { count: number; names: string[] } {
  const s = state();
  if (s.error) throw s.error;
  if (!s.result) {
    try {
      const r = applyActivation(processEnv, s.options);
      s.result = { count: r.count, names: r.names };
      s.ids = r.ids;
    } catch (e) {
      s.error = e instanceof SdError ? e : new ActivationError("ERR_SD_ACTIVATION", String(e), { cause: e });
      throw s.error;
    }
  }
  return { count: s.result.count, names: [...s.result.names] };
}

/** The identity of each inherited fd at the time LISTEN_* was read (for the registry). */
export function inheritedFdIds(): (string | undefined)[] {
  listenFdsWithNames();
  return [...(state().ids ?? [])];
}

/** Forgets a remembered activation error (used by `reset()`), so the registry is usable again. */
export function clearActivationError(): void {
  const s = state();
  if (s.error) { s.error = undefined; s.result = { count: 0, names: [] }; }
}
