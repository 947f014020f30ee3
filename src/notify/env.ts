/**
 * The notify-related environment: where notifications go, and the variables `unsetEnv` removes
 * so that child processes do not notify (or feed the watchdog) in the service's name.
 * Read at call time, never at import: the variables may be set or changed after startup.
 * @module
 */
import { NoNotifySocketError } from "../errors.js";
import type { Env } from "../env.js";
import { parseNotifySocket, type NotifyAddress } from "./address.js";

/** The variables removed by `unsetEnv: true`. */
export const NOTIFY_ENV_VARS = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] as const;

/** The parsed `NOTIFY_SOCKET`; throws {@link NoNotifySocketError} when it is unset. */
export function notifyAddress(env: Env): NotifyAddress {
  const raw = env.get("NOTIFY_SOCKET");
  if (raw === undefined) throw new NoNotifySocketError();
  return parseNotifySocket(raw);
}

/** Removes `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`. */
export function unsetNotifyEnv(env: Env): void {
  for (const name of NOTIFY_ENV_VARS) env.unset(name);
}
