/**
 * `sd_notify_barrier`: sends `BARRIER=1` alone with the write end of a fresh pipe, closes its
 * own copy, and waits for the read end to report hang-up — which happens once the manager has
 * processed every earlier message from this process and closed the fd. The wait is a libuv poll
 * on the read end, so the event loop keeps running.
 * @module
 */
import { processEnv } from "../env.js";
import { SdError, errnoError } from "../errors.js";
import { K, checkValue, native } from "../native/binding.js";
import { notifyAddress, unsetNotifyEnv } from "./env.js";
import type { NotifyOptions } from "./notify.js";
import { sendMessages } from "./transport.js";

/** Options of {@link barrier}. */
export type BarrierOptions = Pick<NotifyOptions, "unsetEnv" | "pid" | "env">;

/** Default barrier timeout, the one systemd-notify uses. */
export const DEFAULT_BARRIER_TIMEOUT_MS = 5000;

const BARRIER = Buffer.from("BARRIER=1");
const READABLE = 1, DISCONNECT = 4;

/** Resolves true when every writer of the pipe `readFd` has gone, false after `ms`. */
function waitForHangup(readFd: number, ms: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const n = native();
    const handle = n.pollStart(readFd, READABLE | DISCONNECT, () => finish(true));
    if (typeof handle === "number") { reject(errnoError(handle, "uv_poll_start", `pipe fd ${readFd}`)); return; }
    const timer = setTimeout(() => finish(false), ms);
    function finish(ok: boolean) {
      clearTimeout(timer);
      n.pollStop(handle as object);
      resolve(ok);
    }
  });
}

/**
 * Waits until the service manager has processed every notification this process sent before
 * (`sd_notify_barrier`), e.g. `MAINPID=` before the old main process exits. Rejects with
 * `ERR_SD_BARRIER_TIMEOUT` when the manager does not answer within `timeoutMs`, and like
 * `notify()` otherwise.
 * @param timeoutMs how long to wait for the manager. @default 5000
 */
export async function barrier(timeoutMs: number = DEFAULT_BARRIER_TIMEOUT_MS, opts: BarrierOptions = {}): Promise<void> {
  const env = opts.env ?? processEnv;
  try {
    if (!(Number.isFinite(timeoutMs) && timeoutMs >= 0)) throw new SdError("ERR_SD_INVALID_ARG", `barrier(): timeoutMs must be a finite number >= 0, got ${String(timeoutMs)}.`);
    const address = notifyAddress(env);
    const started = Date.now();
    const [r, w] = checkValue(native().pipe2(K().O_CLOEXEC!), "pipe2", "", "barrier() needs a pipe");
    try {
      try {
        await sendMessages(address, [{ data: BARRIER, fds: [w] }], timeoutMs, opts.pid === undefined ? {} : { pid: opts.pid });
      } finally {
        native().close(w); // the manager holds the only other copy now; its close is the answer
      }
      const left = Math.max(0, timeoutMs - (Date.now() - started));
      if (!(await waitForHangup(r, left))) {
        throw new SdError("ERR_SD_BARRIER_TIMEOUT", `BARRIER=1 was not acknowledged within ${timeoutMs} ms: the receiver on NOTIFY_SOCKET ${address.raw} is not processing notifications (or keeps the fds it receives).`);
      }
    } finally {
      native().close(r);
    }
  } finally {
    if (opts.unsetEnv) unsetNotifyEnv(env);
  }
}
