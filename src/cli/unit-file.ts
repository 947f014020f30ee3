/**
 * Pure generator of systemd unit files for a Node daemon: a `.service` and one `.socket` per
 * distinct fd name. Every value is validated and escaped so that no input can add a line, a
 * key or a section: control characters (newlines included) are rejected, `%` specifiers are
 * doubled, `$` is doubled where systemd expands variables, command words are quoted with C
 * escapes, and a trailing backslash (a line continuation in unit files) is refused.
 * @module
 */
import { usageError } from "./args.js";
import { fdnameIsValid } from "./child-env.js";
import { formatAddress, type ListenSpec } from "./listen-spec.js";

/** Service types the generator accepts (`notify-reload` needs systemd 253 or newer). */
export const SERVICE_TYPES = ["notify", "notify-reload", "simple", "exec"] as const;
/** Restart= policies. */
export const RESTART_POLICIES = ["no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"] as const;
/** NotifyAccess= values. */
export const NOTIFY_ACCESS = ["none", "main", "exec", "all"] as const;

/** What to generate. Time spans are systemd syntax ("30s"), already checked by the caller or here. */
export interface UnitSpec {
  /** Unit base name: `app` gives app.service and app.socket. */
  name: string;
  description?: string;
  /** The command: an absolute path (or a plain name systemd looks up) and its arguments. */
  exec: string[];
  type?: (typeof SERVICE_TYPES)[number];
  /** Listeners, each with an optional FileDescriptorName. */
  listen?: { spec: ListenSpec; fdname?: string }[];
  watchdogSec?: string;
  fdstoreMax?: number;
  /** Signal name for `ExecReload=/bin/kill -s SIG $MAINPID`. */
  reloadSignal?: string;
  restart?: (typeof RESTART_POLICIES)[number];
  restartSec?: string;
  notifyAccess?: (typeof NOTIFY_ACCESS)[number];
  /** Environment= assignments, `[name, value]`. */
  environment?: [string, string][];
  workingDirectory?: string;
  user?: string;
  group?: string;
  /** Add the sandboxing defaults (default true). */
  hardening?: boolean;
  /** [Install] WantedBy= of the service (default multi-user.target). */
  wantedBy?: string;
}

/** One generated file. */
export interface UnitFile { name: string; text: string }

/**
 * Settings that harden a typical Node service. Left out on purpose: MemoryDenyWriteExecute=
 * (V8's JIT needs W+X pages) and ProtectKernelTunables= (its /proc and /sys remounts fail with
 * 226/NAMESPACE in some VMs and containers, which would make the unit fail to start at all).
 */
export const HARDENING: [string, string][] = [
  ["NoNewPrivileges", "yes"], ["PrivateTmp", "yes"], ["ProtectSystem", "strict"], ["ProtectHome", "read-only"],
  ["ProtectKernelModules", "yes"], ["ProtectControlGroups", "yes"],
  ["RestrictSUIDSGID", "yes"], ["RestrictRealtime", "yes"], ["RestrictNamespaces", "yes"],
  ["LockPersonality", "yes"], ["SystemCallArchitectures", "native"],
];

const CONTROL = /[\x00-\x1f\x7f]/;

/** Rejects what could break out of one `Key=value` line; returns the value. */
function checkValue(what: string, v: string): string {
  if (CONTROL.test(v)) throw usageError(`${what} must not contain newlines or other control characters: ${JSON.stringify(v)}.`);
  return v;
}

/** A free-text value (Description=): trimmed like systemd does, specifiers escaped, no trailing backslash. */
export function escapeText(what: string, v: string): string {
  const t = checkValue(what, v).trim();
  if (/\\$/.test(t)) throw usageError(`${what} must not end with a backslash (it would continue the line): ${JSON.stringify(v)}.`);
  return t.replace(/%/g, "%%");
}

/** A path value (WorkingDirectory=, ListenStream=/path): absolute, no surrounding spaces, specifiers escaped. */
function escapePath(what: string, v: string, abstractOk = false): string {
  checkValue(what, v);
  if (!(v.startsWith("/") || (abstractOk && v.startsWith("@")))) throw usageError(`${what} must be an absolute path: ${JSON.stringify(v)}.`);
  if (v !== v.trim() || v.endsWith("\\")) throw usageError(`${what} must not start or end with spaces or end with a backslash: ${JSON.stringify(v)}.`);
  return v.replace(/%/g, "%%");
}

/** Words that need no quoting in a command line. */
const PLAIN_WORD = /^[A-Za-z0-9_./:@+,=-]+$/;

/**
 * One word of ExecStart=: plain, or double-quoted with C escapes; `%` and `$` doubled because
 * systemd expands specifiers and variables inside quotes too.
 */
export function quoteWord(word: string): string {
  checkValue("A command argument", word);
  const body = word.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  if (PLAIN_WORD.test(word)) return body;
  return `"${body.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** ExecStart= value for argv. The program must be absolute or a plain name: a leading -@:+! would be a flag. */
export function execLine(argv: string[]): string {
  const prog = argv[0];
  if (prog === undefined) throw usageError("The command to run is missing.");
  if (!prog.startsWith("/") && !/^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/.test(prog)) {
    throw usageError(`The program must be an absolute path or a plain command name, not ${JSON.stringify(prog)}.`);
  }
  return argv.map(quoteWord).join(" ");
}

function checkTimespan(what: string, v: string): string {
  if (!/^\d+(\.\d+)?(us|ms|s|sec|m|min|h|hr|d)?( \d+(\.\d+)?(us|ms|s|sec|m|min|h|hr|d)?)*$/.test(v)) throw usageError(`${what} must be a time span such as 30s, 500ms or "1min 30s": ${JSON.stringify(v)}.`);
  return v;
}

function oneOf<T extends string>(what: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw usageError(`${what} must be one of ${allowed.join(", ")}: ${JSON.stringify(v)}.`);
  return v as T;
}

function checkUnitName(v: string): string {
  if (!/^[A-Za-z0-9:_.\\-]+$/.test(v) || v.length > 240) throw usageError(`The unit name may contain only letters, digits and :_.-\\ (at most 240): ${JSON.stringify(v)}.`);
  return v;
}

const LISTEN_KEY = { stream: "ListenStream", datagram: "ListenDatagram", seqpacket: "ListenSequentialPacket" } as const;

function listenLine(spec: ListenSpec): [string, string] {
  if (spec.fifo) return ["ListenFIFO", escapePath("A FIFO path", spec.path!)];
  if (spec.kind === "unix") return [LISTEN_KEY[spec.type], escapePath("A socket path", spec.path!, true)];
  return [LISTEN_KEY[spec.type], formatAddress(spec)];
}

function render(sections: [string, [string, string][]][]): string {
  return "# Generated by sdkit unit.\n" + sections
    .filter(([, kv]) => kv.length > 0)
    .map(([s, kv]) => `[${s}]\n${kv.map(([k, v]) => `${k}=${v}`).join("\n")}\n`)
    .join("\n");
}

/** Groups listeners by fd name into socket units: the first group is `<name>.socket`. */
function socketUnits(spec: UnitSpec, desc: string): UnitFile[] {
  const groups = new Map<string | undefined, ListenSpec[]>();
  for (const l of spec.listen ?? []) {
    if (l.fdname !== undefined && (!fdnameIsValid(l.fdname) || /^$|^ | $|\\$/.test(l.fdname))) {
      throw usageError(`A file descriptor name must be 1-255 printable ASCII characters without ':', surrounding spaces or a final backslash: ${JSON.stringify(l.fdname)}.`);
    }
    groups.set(l.fdname, [...(groups.get(l.fdname) ?? []), l.spec]);
  }
  let i = 0;
  return [...groups].map(([fdname, specs]) => {
    const unit = i++ === 0 ? `${spec.name}.socket` : `${spec.name}-${fdname && /^[A-Za-z0-9_.-]+$/.test(fdname) ? fdname : `socket${i}`}.socket`;
    const sock: [string, string][] = specs.map(listenLine);
    if (fdname !== undefined) sock.push(["FileDescriptorName", fdname.replace(/%/g, "%%")]);
    if (unit !== `${spec.name}.socket`) sock.push(["Service", `${spec.name}.service`]);
    return { name: unit, text: render([["Unit", [["Description", `${desc} (socket${fdname ? ` ${fdname.replace(/%/g, "%%")}` : ""})`]]], ["Socket", sock], ["Install", [["WantedBy", "sockets.target"]]]]) };
  });
}

/** Generates the unit files; throws an `ERR_SD_CLI_USAGE` SdError for any unusable value. */
export function generateUnits(spec: UnitSpec): UnitFile[] {
  const name = checkUnitName(spec.name);
  const desc = spec.description !== undefined ? escapeText("The description", spec.description) : `${name} (Node.js service)`;
  if (desc === "") throw usageError("The description must not be empty.");
  const sockets = socketUnits(spec, desc);
  const unit: [string, string][] = [["Description", desc]];
  if (sockets.length) {
    const names = sockets.map((s) => s.name).join(" ");
    unit.push(["Requires", names], ["After", names]);
  }
  const svc: [string, string][] = [["Type", oneOf("The service type", spec.type ?? "notify", SERVICE_TYPES)], ["ExecStart", execLine(spec.exec)]];
  if (spec.reloadSignal !== undefined) {
    if (!/^(SIG)?[A-Z0-9+-]{2,12}$/.test(spec.reloadSignal)) throw usageError(`The reload signal must be a signal name such as HUP: ${JSON.stringify(spec.reloadSignal)}.`);
    svc.push(["ExecReload", `/bin/kill -s ${spec.reloadSignal.replace(/^SIG/, "")} $MAINPID`]);
  }
  if (spec.notifyAccess !== undefined) svc.push(["NotifyAccess", oneOf("NotifyAccess", spec.notifyAccess, NOTIFY_ACCESS)]);
  if (spec.watchdogSec !== undefined) svc.push(["WatchdogSec", checkTimespan("The watchdog interval", spec.watchdogSec)]);
  if (spec.fdstoreMax !== undefined) {
    if (!Number.isInteger(spec.fdstoreMax) || spec.fdstoreMax < 0 || spec.fdstoreMax > 65536) throw usageError("FileDescriptorStoreMax must be a whole number from 0 to 65536.");
    svc.push(["FileDescriptorStoreMax", String(spec.fdstoreMax)]);
  }
  svc.push(["Restart", oneOf("The restart policy", spec.restart ?? "on-failure", RESTART_POLICIES)]);
  if (spec.restartSec !== undefined) svc.push(["RestartSec", checkTimespan("The restart delay", spec.restartSec)]);
  for (const [k, v] of spec.environment ?? []) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw usageError(`An environment variable name must be letters, digits and _: ${JSON.stringify(k)}.`);
    svc.push(["Environment", quoteEnv(k, checkValue("An environment value", v))]);
  }
  if (spec.workingDirectory !== undefined) svc.push(["WorkingDirectory", escapePath("The working directory", spec.workingDirectory)]);
  for (const [key, v] of [["User", spec.user], ["Group", spec.group]] as const) {
    if (v === undefined) continue;
    if (!/^[A-Za-z_][A-Za-z0-9_-]{0,30}$/.test(v)) throw usageError(`${key} must be a user or group name: ${JSON.stringify(v)}.`);
    svc.push([key, v]);
  }
  if (sockets.length > 1) svc.push(["Sockets", sockets.map((s) => s.name).join(" ")]);
  if (spec.hardening !== false) svc.push(...HARDENING);
  const wantedBy = spec.wantedBy ?? "multi-user.target";
  if (!/^[A-Za-z0-9:_.\\-]+\.target$/.test(wantedBy)) throw usageError(`WantedBy must be a target unit name: ${JSON.stringify(wantedBy)}.`);
  const service = { name: `${name}.service`, text: render([["Unit", unit], ["Service", svc], ["Install", [["WantedBy", wantedBy]]]]) };
  return [service, ...sockets];
}

/** One Environment= assignment, always quoted (values may hold spaces or quotes). */
function quoteEnv(k: string, v: string): string {
  return `"${`${k}=${v}`.replace(/%/g, "%%").replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
