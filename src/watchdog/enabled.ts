/**
 * `sd_watchdog_enabled`: whether the service manager expects keep-alive pings from this
 * process, and how often. `WATCHDOG_USEC` must be a positive decimal; `WATCHDOG_PID`, when
 * present, must name this process (absent means "for us" — the seed wrongly required it).
 * @module
 */
import { SdError } from "../errors.js";
import { processEnv, type Env } from "../env.js";

/** The watchdog settings in effect for this process. */
export interface WatchdogSettings {
  /** True when the manager runs a watchdog for this process. */
  enabled: boolean;
  /** The manager's timeout in milliseconds (0 when disabled); ping at least twice per interval. */
  intervalMs: number;
  /** The timeout exactly as given, in microseconds (0n when disabled). */
  intervalUsec: bigint;
}

/** Options of {@link watchdogEnabled}. */
export interface WatchdogEnabledOptions {
  /**
   * Remove `WATCHDOG_USEC` and `WATCHDOG_PID` from the environment afterwards (even on error),
   * so child processes do not believe the watchdog is theirs.
   * @default false
   */
  unsetEnv?: boolean;
  /** The environment to read. @default the process environment */
  env?: Env;
}

const USEC_INFINITY = 2n ** 64n - 1n;
const DISABLED: WatchdogSettings = Object.freeze({ enabled: false, intervalMs: 0, intervalUsec: 0n });

/** Parses the watchdog variables of `env`; throws `ERR_SD_WATCHDOG` when they are malformed. */
export function parseWatchdog(env: Env): WatchdogSettings {
  const usecText = env.get("WATCHDOG_USEC");
  if (usecText === undefined) return DISABLED;
  if (!/^[0-9]+$/.test(usecText)) throw new SdError("ERR_SD_WATCHDOG", `WATCHDOG_USEC=${JSON.stringify(usecText)} is not a decimal number of microseconds.`);
  const usec = BigInt(usecText);
  if (usec === 0n || usec >= USEC_INFINITY) throw new SdError("ERR_SD_WATCHDOG", `WATCHDOG_USEC=${usecText} is out of range: it must be greater than 0 and finite.`);
  const pidText = env.get("WATCHDOG_PID");
  if (pidText !== undefined) {
    if (!/^[1-9][0-9]*$/.test(pidText)) throw new SdError("ERR_SD_WATCHDOG", `WATCHDOG_PID=${JSON.stringify(pidText)} is not a process id.`);
    // Another process's watchdog (e.g. inherited from a parent service): not ours to feed.
    if (Number(pidText) !== env.pid()) return DISABLED;
  }
  return { enabled: true, intervalMs: Number(usec) / 1000, intervalUsec: usec };
}

/**
 * Whether the service manager expects watchdog pings from this process (`sd_watchdog_enabled`).
 * Throws `ERR_SD_WATCHDOG` when `WATCHDOG_USEC`/`WATCHDOG_PID` are malformed.
 */
export function watchdogEnabled(opts: WatchdogEnabledOptions = {}): WatchdogSettings {
  const env = opts.env ?? processEnv;
  try {
    return parseWatchdog(env);
  } finally {
    if (opts.unsetEnv) { env.unset("WATCHDOG_USEC"); env.unset("WATCHDOG_PID"); }
  }
}
