/**
 * Pure helpers that compute what a launched program gets: its environment and its fd names.
 * Shared by `sdkit activate` and `sdkit run`.
 * @module
 */
import { usageError } from "./args.js";

/** Variables of the activation protocol that must never leak from our own environment. */
export const ACTIVATION_VARS = ["LISTEN_PID", "LISTEN_PIDFDID", "LISTEN_FDS", "LISTEN_FDNAMES"];

/** What systemd-socket-activate copies from its own environment (nothing else). */
export const MINIMAL_VARS = ["TERM", "PATH", "USER", "HOME"];

/** Checks one `-E NAME[=VALUE]` argument; throws a usage error when the name is unusable. */
export function checkSetenv(arg: string): string {
  const eq = arg.indexOf("=");
  const name = eq < 0 ? arg : arg.slice(0, eq);
  if (!/^[^=\x00-\x1f\x7f]+$/.test(name)) throw usageError(`Cannot assign environment variable ${JSON.stringify(arg)}: ${JSON.stringify(name)} is not a valid variable name.`);
  return arg;
}

/**
 * The program's environment as an ordered map. `inherit` false gives systemd-socket-activate's
 * minimal set (TERM, PATH, USER, HOME); true passes our whole environment. Activation
 * variables are always dropped; the caller adds its own.
 */
export function baseEnv(parent: NodeJS.ProcessEnv, inherit: boolean): Map<string, string> {
  const env = new Map<string, string>();
  const keys = inherit ? Object.keys(parent) : MINIMAL_VARS;
  for (const k of keys) {
    const v = parent[k];
    if (v !== undefined && !ACTIVATION_VARS.includes(k)) env.set(k, v);
  }
  return env;
}

/**
 * Applies `-E` assignments in order, later ones winning: `NAME=VALUE` sets, a bare `NAME`
 * copies our own value, or sets it empty when we have none (systemd-socket-activate does the same).
 */
export function applySetenv(env: Map<string, string>, assignments: string[], parent: NodeJS.ProcessEnv): void {
  for (const a of assignments) {
    const eq = a.indexOf("=");
    if (eq < 0) env.set(a, parent[a] ?? "");
    else env.set(a.slice(0, eq), a.slice(eq + 1));
  }
}

/** `KEY=VALUE` strings for execve. */
export function envList(env: Map<string, string>): string[] {
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** A plain object for child_process.spawn. */
export function envObject(env: Map<string, string>): Record<string, string> {
  return Object.fromEntries(env);
}

/**
 * Splits `--fdname` values (each may hold `a:b:c`) into one list, like systemd-socket-activate:
 * an empty value is one empty name.
 */
export function splitFdnames(values: string[]): string[] {
  return values.flatMap((v) => v.split(":"));
}

/**
 * systemd's `fdname_is_valid`: at most 255 printable ASCII characters, no colon. Invalid names
 * are passed on with a warning by systemd-socket-activate; the manager ignores them.
 */
export function fdnameIsValid(name: string): boolean {
  return name.length <= 255 && /^[\x20-\x7e]*$/.test(name) && !name.includes(":");
}

/**
 * LISTEN_FDNAMES for `count` fds from the `--fdname` list, systemd-socket-activate's rule: one
 * name applies to every fd; as many names as fds pair up in order; any other number is passed
 * on unchanged with a warning (that is how a program's mismatch handling can be tested).
 * `inherited` are the names of fds passed through from our own activation, used when no
 * `--fdname` was given (our own listeners are then "unknown").
 */
export function resolveFdnames(fdnames: string[], count: number, inherited?: string[]): { names?: string[]; warning?: string } {
  if (fdnames.length === 0) {
    if (!inherited || inherited.length === 0) return {};
    return { names: [...inherited, ...Array<string>(count - inherited.length).fill("unknown")] };
  }
  if (fdnames.length === 1) return { names: Array<string>(count).fill(fdnames[0]!) };
  if (fdnames.length !== count) {
    return { names: fdnames, warning: `The number of fd names is different than number of fds: ${fdnames.length} vs ${count}` };
  }
  return { names: fdnames };
}
