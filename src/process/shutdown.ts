/**
 * `onShutdown()`: the signal wiring a zero-downtime daemon needs, in one call. On SIGTERM/SIGINT:
 * tell systemd `STOPPING=1` (unless this process was just replaced: then the service is not
 * stopping, only this process is), drain the servers, run the app's cleanup, exit. Optionally
 * (opt-in), a signal such as SIGHUP triggers a replacement instead.
 * @module
 */
import type net from "node:net";
import { stopping } from "../notify.js";
import { isPendingSuccessor } from "./child.js";
import { drain } from "./drain.js";
import { replaceProcess, replacementStatus, settleReplacement, type ReplaceOptions } from "./parent.js";
import { checkReexec, reexec, type ReexecOptions } from "./reexec.js";
import { workerSlot } from "./workers.js";

/** Why the process is shutting down, as passed to {@link ShutdownOptions.beforeExit}. */
export interface ShutdownReason {
  /** The signal received. */
  signal: NodeJS.Signals;
  /** True when a successor took over (replaceProcess), false for a real stop. */
  replaced: boolean;
}

/** Options of {@link onShutdown}. */
export interface ShutdownOptions {
  /** Servers to drain (see `drain()`): stop accepting, finish requests, close keep-alive connections. @default [] */
  servers?: readonly net.Server[];
  /** Per-server grace period before remaining connections are destroyed. @default 10_000 */
  graceMs?: number;
  /** Signals that shut down. @default ["SIGTERM", "SIGINT"] */
  signals?: readonly NodeJS.Signals[];
  /** App cleanup after the servers drained (close databases, flush logs). Errors are reported, not fatal. */
  beforeExit?: (reason: ShutdownReason) => void | Promise<void>;
  /** Exit with this code when done; `false` leaves exiting to the app. @default 0 */
  exitCode?: number | false;
  /**
   * Opt-in: this signal replaces the process instead (`"SIGHUP"` is the usual choice, so that
   * `ExecReload=kill -HUP $MAINPID` works). Off by default: SIGHUP's default action stays.
   * @default undefined
   */
  replaceOn?: NodeJS.Signals;
  /**
   * How `replaceOn` replaces: `"replace"` starts a successor (`replaceProcess`), `"reexec"` drains
   * and re-executes in place (`reexec()`, same pid).
   * @default "replace"
   */
  replaceMode?: "replace" | "reexec";
  /** Options for `replaceMode: "replace"`; `reload` defaults to true here (a signal-triggered reload). */
  replaceOptions?: ReplaceOptions;
  /** Options for `replaceMode: "reexec"`. */
  reexecOptions?: ReexecOptions;
  /** Called when a replacement fails (this process keeps serving). @default process.emitWarning */
  onError?: (err: Error) => void;
}

function report(opts: ShutdownOptions, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  if (opts.onError) opts.onError(e);
  else process.emitWarning(e.message, { code: "SDKIT_SHUTDOWN" });
}

/**
 * Installs the shutdown (and optional replacement) signal handlers. One shutdown runs at most
 * once; repeated signals while it runs are ignored (systemd escalates to SIGKILL on its own
 * after `TimeoutStopSec=`). Returns a function that removes the handlers.
 *
 * A stop during a replacement cancels it: a successor that is not ready yet is stopped first.
 * `STOPPING=1` is not sent by a replaced process (the service lives on in its successor), by a
 * successor that is not ready yet, nor by a worker: none of them is the service's main process.
 */
export function onShutdown(opts: ShutdownOptions | ((reason: ShutdownReason) => void | Promise<void>) = {}): () => void {
  const o: ShutdownOptions = typeof opts === "function" ? { beforeExit: opts } : opts;
  const signals = o.signals ?? ["SIGTERM", "SIGINT"];
  let shuttingDown = false;
  let replacing = false;

  const shutdown = async (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    await settleReplacement();
    const replaced = replacementStatus().phase === "replaced";
    if (!replaced && !isPendingSuccessor() && workerSlot() === undefined && process.env.NOTIFY_SOCKET) {
      await stopping().catch((e: unknown) => report(o, e));
    }
    await Promise.all((o.servers ?? []).map((s) => drain(s, o.graceMs === undefined ? {} : { graceMs: o.graceMs })));
    try {
      await o.beforeExit?.({ signal, replaced });
    } catch (e) {
      report(o, e);
    }
    if (o.exitCode !== false) process.exit(o.exitCode ?? 0);
  };

  const replace = async () => {
    if (shuttingDown || replacing) return;
    replacing = true;
    try {
      if (o.replaceMode === "reexec") {
        checkReexec(o.reexecOptions); // fail before draining, while the servers still accept
        await Promise.all((o.servers ?? []).map((s) => drain(s, o.graceMs === undefined ? {} : { graceMs: o.graceMs })));
        try {
          reexec(o.reexecOptions);
        } catch (e) {
          // The servers are closed and execve failed after the checks: nothing serves any more.
          // Exit so the supervisor (systemd Restart=) starts afresh; the sockets stay queued if
          // they are socket-activated.
          report(o, e);
          process.exit(1);
        }
      } else {
        await replaceProcess("SIGTERM", undefined, { reload: true, ...o.replaceOptions });
      }
    } catch (e) {
      report(o, e);
    } finally {
      replacing = false;
    }
  };

  const onSignal = (signal: NodeJS.Signals) => void shutdown(signal);
  const onReplace = () => void replace();
  for (const s of signals) process.on(s, onSignal);
  if (o.replaceOn) process.on(o.replaceOn, onReplace);
  return () => {
    for (const s of signals) process.off(s, onSignal);
    if (o.replaceOn) process.off(o.replaceOn, onReplace);
  };
}
