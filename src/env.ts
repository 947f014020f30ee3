/**
 * The one seam through which sdkit reads and changes the process environment. Pure parsers
 * take an {@link Env}, so tests can feed them any input; the real one wraps `process.env`.
 * @module
 */

/** What the parsers need from the process: variables and the pid. */
export interface Env {
  get(name: string): string | undefined;
  unset(name: string): void;
  pid(): number;
}

/** The live process environment. */
export const processEnv: Env = {
  get: (name) => process.env[name],
  unset: (name) => { delete process.env[name]; },
  pid: () => process.pid,
};

/** An Env over a plain object (for tests and for computing a child's environment). */
export function objectEnv(vars: Record<string, string | undefined>, pid = process.pid): Env {
  return {
    get: (name) => vars[name],
    unset: (name) => { delete vars[name]; },
    pid: () => pid,
  };
}
