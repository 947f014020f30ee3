/**
 * The automatic watchdog pinger: `WATCHDOG=1` at half the manager's interval from an unref'd
 * timer, so it never keeps the process alive and stops feeding the watchdog exactly when the
 * event loop stops turning (which is what the watchdog is there to detect). One pinger per
 * process (shared across copies of sdkit through a global symbol); starting it again is a no-op.
 * @module
 */
import { processEnv, type Env } from "../env.js";
import { NoNotifySocketError, SdError } from "../errors.js";
import { notifyAddress } from "../notify/env.js";
import { sendMessagesSync } from "../notify/transport.js";
import { parseWatchdog } from "./enabled.js";

/** Options of {@link startWatchdog}. */
export interface StartWatchdogOptions {
  /** The environment to read `WATCHDOG_USEC`, `WATCHDOG_PID` and `NOTIFY_SOCKET` from. @default the process environment */
  env?: Env;
}

interface Pinger { timer: NodeJS.Timeout | undefined; env: Env; stop: () => void; warned: boolean }

const KEY = Symbol.for("sdkit.watchdog.v1");
const g = globalThis as unknown as Record<symbol, Pinger | undefined>;
const PING = { data: Buffer.from("WATCHDOG=1"), fds: [] as number[] };
const noop = () => {};

function ping(p: Pinger): void {
  try {
    sendMessagesSync(notifyAddress(p.env), [PING]);
  } catch (e) {
    // The manager is gone or NOTIFY_SOCKET was unset: nobody is watching any more.
    if (e instanceof NoNotifySocketError || (e instanceof SdError && e.code === "ERR_SD_NOTIFY_SOCKET")) { p.stop(); return; }
    // A full queue (ERR_SD_WOULD_BLOCK) or a transient error: the next ping comes in half an interval.
    if (!p.warned) {
      p.warned = true;
      process.emitWarning(`sdkit watchdog ping failed: ${(e as Error).message}`, { code: "SDKIT_WATCHDOG_PING" });
    }
  }
}

function schedule(p: Pinger, intervalMs: number): void {
  clearInterval(p.timer);
  p.timer = setInterval(ping, Math.max(1, Math.floor(intervalMs / 2)), p);
  p.timer.unref();
}

/**
 * Starts pinging the service manager's watchdog (`WATCHDOG=1`) every half interval, beginning
 * now. Does nothing when the watchdog is not enabled for this process. Idempotent: while a
 * pinger runs, further calls return its stop function. The pinger stops on the returned
 * function, on `stopping()` (any `STOPPING=1` sent through sdkit), and when the notify socket
 * disappears. It never keeps the process alive by itself.
 * Throws `ERR_SD_WATCHDOG` when the watchdog variables are malformed.
 */
export function startWatchdog(opts: StartWatchdogOptions = {}): () => void {
  const running = g[KEY];
  if (running) return running.stop;
  const env = opts.env ?? processEnv;
  const settings = parseWatchdog(env);
  if (!settings.enabled) return noop;
  const p: Pinger = {
    timer: undefined,
    env,
    warned: false,
    stop: () => {
      clearInterval(p.timer);
      if (g[KEY] === p) g[KEY] = undefined;
    },
  };
  g[KEY] = p;
  schedule(p, settings.intervalMs);
  ping(p);
  return p.stop;
}

/** Stops the running pinger, if any. */
export function stopWatchdog(): void {
  g[KEY]?.stop();
}

/** Whether a pinger is running. */
export function watchdogRunning(): boolean {
  return g[KEY] !== undefined;
}

/** Re-times a running pinger after the service changed its own timeout with `WATCHDOG_USEC=`. */
export function retimeWatchdog(usec: bigint): void {
  const p = g[KEY];
  if (p && usec > 0n) schedule(p, Number(usec) / 1000);
}
