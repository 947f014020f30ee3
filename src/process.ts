/**
 * The process area: zero-downtime replacement of a running daemon, either by a successor
 * process that inherits the listening sockets (`replaceProcess`) or in place, keeping the pid
 * (`reexec`), plus draining, shutdown wiring and workers. Re-exports only.
 *
 * ## A replaceable daemon
 * ```ts
 * const server = await sd.listenTCP({ name: "web", port: 8080, server: http.createServer(app) });
 * sd.onShutdown({ servers: [server], replaceOn: "SIGHUP" }); // SIGTERM: drain + exit; SIGHUP: replace
 * if (!sd.signalParentTermination()) await sd.ready();       // successor: tell the parent; else systemd
 * ```
 * `kill -HUP <pid>` (or `systemctl reload`) then starts a copy of the program with the
 * listeners, waits until it calls `signalParentTermination()`, hands the service over and
 * drains: no connection is refused or reset. A successor that fails is stopped and the old
 * process keeps serving (`ReplaceError`).
 *
 * ## systemd unit settings
 * ```ini
 * [Service]
 * Type=notify
 * NotifyAccess=main          # the default for Type=notify; enough: the old main process sends
 *                            # MAINPID=<successor> itself, then waits on BARRIER=1 before exiting
 * KillMode=control-group     # the default; the old main exits by itself after the handover,
 *                            # and a stop still reaches every process of the service
 * ExecReload=/bin/kill -HUP $MAINPID    # with onShutdown({ replaceOn: "SIGHUP" }): RELOADING=1 …
 *                                       # READY=1 around the replacement (Type=notify-reload on 253+)
 * TimeoutStopSec=30          # longer than the drain grace period (onShutdown graceMs, default 10 s)
 * # Only on cgroup v1/hybrid hierarchies inside containers (where systemd cannot watch cgroups):
 * ExecStop=/bin/sh -c 'kill -TERM $$MAINPID && while kill -0 $$MAINPID 2>/dev/null; do sleep 0.1; done'
 * ```
 * Why the last line: after a handover the main process is one the manager did not fork
 * (it logs "Supervising process … which is not our child"). It still notices when that process
 * exits (it is re-parented to the manager), but on stop systemd waits for such a process
 * only through cgroup notifications, which it does not trust on legacy hierarchies in containers:
 * there (verified with systemd 252) it sends SIGKILL right after SIGTERM (`Result=signal`). The ExecStop= line stops the
 * main process itself and waits for it. `reexec()` keeps the pid and needs none of this.
 * Do not add `PIDFile=` (or update it before MAINPID=). Avoid `KillMode=process`: a stop would
 * then leave a draining old process behind. `Restart=` works as usual: it sees the new main.
 * The successor gets `NOTIFY_SOCKET` and `WATCHDOG_USEC` but not `WATCHDOG_PID`, so its watchdog
 * pings count once it is the main process.
 * @module
 */
export { startProcess, replaceProcess, replacementStatus } from "./process/parent.js";
export type { StartProcessOptions, ReplaceOptions, ReplacePhase } from "./process/parent.js";
export { signalParentTermination, isPendingSuccessor } from "./process/child.js";
export { ReplaceError } from "./process/replace-error.js";
export type { ReplaceFailure, ReplaceErrorDetails } from "./process/replace-error.js";
export { reexec, checkReexec } from "./process/reexec.js";
export type { ReexecOptions } from "./process/reexec.js";
export { drain, DEFAULT_GRACE_MS, DEFAULT_IDLE_MS } from "./process/drain.js";
export type { DrainOptions } from "./process/drain.js";
export { onShutdown } from "./process/shutdown.js";
export type { ShutdownOptions, ShutdownReason } from "./process/shutdown.js";
export { startWorkers, workerSlot, Workers } from "./process/workers.js";
export type { WorkersOptions } from "./process/workers.js";
export { currentProgram, ORIGINAL_CWD } from "./process/program.js";
