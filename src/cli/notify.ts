/**
 * `sdkit notify`: a drop-in for `systemd-notify` in shell scripts. Same flags and message
 * layout; like systemd-notify it sends on behalf of its parent (the script) with explicit
 * SCM_CREDENTIALS, so `NotifyAccess=main` accepts it from `ExecStart=/bin/sh -c '…'`. Unlike
 * systemd-notify 252 it does not wait for a barrier unless asked (`--barrier`), so it never
 * hangs for 5 s on a receiver that keeps fds; `--no-block` is accepted for compatibility.
 * @module
 */
import { existsSync } from "node:fs";
import { SdError } from "../errors.js";
import { notify } from "../notify/notify.js";
import { barrier, DEFAULT_BARRIER_TIMEOUT_MS } from "../notify/barrier.js";
import { monotonicUsec } from "../notify/helpers.js";
import { formatOptions, parseCount, parseOptions, str, usageError, type OptionTable } from "./args.js";

/** The option table: drives both parsing and `--help`. */
export const NOTIFY_OPTIONS: OptionTable = {
  help: { type: "boolean", short: "h", help: "Show this help" },
  version: { type: "boolean", help: "Show package version" },
  ready: { type: "boolean", help: "Inform the init system about service start-up completion" },
  reloading: { type: "boolean", help: "Tell it the service is reloading (RELOADING=1 with MONOTONIC_USEC=)" },
  stopping: { type: "boolean", help: "Tell it the service is stopping (STOPPING=1)" },
  pid: { type: "string", optionalValue: true, arg: "PID", help: "Set main PID of daemon (MAINPID=; default: the parent's pid)" },
  uid: { type: "string", arg: "USER", help: "Set user to send from" },
  status: { type: "string", arg: "TEXT", help: "Set status text" },
  booted: { type: "boolean", help: "Check if the system was booted up with systemd" },
  "no-block": { type: "boolean", help: "Do not wait until operation finished (the default)" },
  barrier: { type: "string", optionalValue: true, arg: "MS", help: `Wait until the manager has processed the message\n(BARRIER=1; default timeout ${DEFAULT_BARRIER_TIMEOUT_MS} ms)` },
};

/** `sdkit notify --help`. */
export const NOTIFY_HELP = `sdkit notify [OPTIONS...] [VARIABLE=VALUE...]

Notify the init system about service status updates (like systemd-notify).

${formatOptions(NOTIFY_OPTIONS)}

The message goes to $NOTIFY_SOCKET with the credentials of the calling process
(the parent of sdkit notify, e.g. the shell script), so NotifyAccess=main accepts
it; --pid=PID sends on behalf of PID instead (both need root or CAP_SYS_ADMIN,
otherwise sdkit's own credentials are used). Exit status: 0 when sent (or, with
--booted, when the system runs systemd), 1 otherwise.
`;

/** What to send, in systemd-notify's order: READY, STATUS, MAINPID, then the arguments. */
export interface NotifyPlan {
  booted: boolean;
  assignments: [string, string][];
  /** Credentials pid to send with. */
  credPid: number;
  uid?: string;
  /** Barrier timeout in ms, or undefined for none. */
  barrierMs?: number;
}

function parsePid(text: string): number {
  if (!/^[1-9]\d{0,9}$/.test(text) || Number(text) > 2 ** 31 - 1) throw usageError(`Failed to parse PID ${text}.`);
  return Number(text);
}

/** Parses `sdkit notify` arguments. `ppid` is the pid to send for when --pid has no value. */
export function parseNotify(argv: string[], ppid = process.ppid): NotifyPlan | "help" | "version" {
  const { values: v, positionals } = parseOptions(argv, NOTIFY_OPTIONS, true);
  if (v.help) return "help";
  if (v.version) return "version";
  const a: [string, string][] = [];
  if (v.ready) a.push(["READY", "1"]);
  if (v.reloading) a.push(["RELOADING", "1"], ["MONOTONIC_USEC", String(monotonicUsec())]);
  if (v.stopping) a.push(["STOPPING", "1"]);
  const status = str(v.status);
  if (status !== undefined) a.push(["STATUS", status]);
  const pidArg = str(v.pid);
  const mainPid = pidArg === undefined ? undefined : pidArg === "" ? ppid : parsePid(pidArg);
  if (mainPid !== undefined) a.push(["MAINPID", String(mainPid)]);
  for (const p of positionals) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw usageError(`${JSON.stringify(p)} is not a VARIABLE=VALUE assignment.`);
    a.push([p.slice(0, eq), p.slice(eq + 1)]);
  }
  const plan: NotifyPlan = { booted: v.booted === true, assignments: a, credPid: mainPid ?? ppid };
  const uid = str(v.uid);
  if (uid !== undefined) plan.uid = uid;
  const b = str(v.barrier);
  if (b !== undefined) plan.barrierMs = b === "" ? DEFAULT_BARRIER_TIMEOUT_MS : parseCount(b, "--barrier", 3_600_000);
  return plan;
}

/** Switches to USER (name or number) like systemd-notify --uid: group first, then user. */
function becomeUser(user: string): void {
  try {
    const id = /^\d+$/.test(user) ? Number(user) : user;
    process.setgid!(id);
    process.setuid!(id);
  } catch (e) {
    throw new SdError("ERR_SD_PERMISSION", `Failed to change user to ${user}: ${(e as Error).message}`);
  }
}

/** Runs `sdkit notify`. */
export async function notifyMain(argv: string[], print: (s: string) => void): Promise<number> {
  const plan = parseNotify(argv);
  if (plan === "help") { print(NOTIFY_HELP); return 0; }
  if (plan === "version") return -1;
  if (plan.booted) return existsSync("/run/systemd/system") ? 0 : 1;
  if (plan.assignments.length === 0) { print(NOTIFY_HELP); return 1; } // as systemd-notify does
  if (!process.env.NOTIFY_SOCKET) {
    process.stderr.write("No status data could be sent: $NOTIFY_SOCKET was not set\n");
    return 1;
  }
  if (plan.uid !== undefined) becomeUser(plan.uid);
  try {
    await notify(plan.assignments, { pid: plan.credPid, waitMs: 5000 });
    if (plan.barrierMs !== undefined) await barrier(plan.barrierMs);
  } catch (e) {
    if (e instanceof SdError && e.code === "ERR_SD_INVALID_MESSAGE") throw usageError(e.message);
    process.stderr.write(`Failed to notify init system: ${(e as Error).message}\n`);
    return 1;
  }
  return 0;
}
