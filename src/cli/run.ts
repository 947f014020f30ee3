/**
 * `sdkit run`: a one-service supervisor that speaks the systemd protocol, for laptops and
 * containers without systemd (and for tests). See {@link RUN_HELP}.
 * @module
 */
import { watch, type FSWatcher } from "node:fs";
import { native } from "../native/binding.js";
import { formatOptions, list, parseCount, parseOptions, parseTimespan, splitAtCommand, str, usageError, type OptionTable } from "./args.js";
import { parseListenSpec, type SocketType } from "./listen-spec.js";
import { errorText, openListener, type OpenListener } from "./sockets.js";
import { ACTIVATION_VARS, applySetenv, baseEnv, checkSetenv, splitFdnames } from "./child-env.js";
import { EventLog } from "./run-log.js";
import { Supervisor, type SupervisorOptions } from "./run-supervisor.js";

/** The option table: drives both parsing and `--help`. */
export const RUN_OPTIONS: OptionTable = {
  help: { type: "boolean", short: "h", help: "Show this help and exit" },
  version: { type: "boolean", help: "Print version string and exit" },
  listen: { type: "string", short: "l", multiple: true, arg: "ADDR", help: "Hold a listening socket at ADDR for the service (sdkit activate syntax)" },
  datagram: { type: "boolean", short: "d", help: "Listeners without a type prefix are datagram sockets" },
  seqpacket: { type: "boolean", help: "Listeners without a type prefix are SOCK_SEQPACKET sockets" },
  fdname: { type: "string", multiple: true, arg: "NAME[:NAME...]", help: "Names of the listeners, in order; one name applies to all" },
  setenv: { type: "string", short: "E", multiple: true, arg: "NAME[=VALUE]", help: "Set a variable for the service (bare NAME copies ours)" },
  type: { type: "string", arg: "TYPE", help: "notify (wait for READY=1; default) or simple (ready once started)" },
  "notify-access": { type: "string", arg: "WHO", help: "Whose notifications count: main (the main pid; default), all, none" },
  "watchdog-sec": { type: "string", arg: "SPAN", help: "Enforce a watchdog: WATCHDOG=1 at least every SPAN once ready,\nor the service is killed (SIGABRT) and restarted" },
  "fdstore-max": { type: "string", arg: "N", help: "Keep up to N fds sent with FDSTORE=1 across restarts (default 0)" },
  "timeout-start-sec": { type: "string", arg: "SPAN", help: "Time to wait for READY=1 (default 90s)" },
  "timeout-stop-sec": { type: "string", arg: "SPAN", help: "Time from SIGTERM to SIGKILL when stopping (default 10s)" },
  restart: { type: "string", arg: "POLICY", help: "on-failure (default), always or no" },
  "restart-sec": { type: "string", arg: "SPAN", help: "First restart delay (default 100ms), doubled after each\nconsecutive failure" },
  "restart-max-sec": { type: "string", arg: "SPAN", help: "Longest restart delay (default 30s)" },
  watch: { type: "string", short: "w", multiple: true, arg: "PATH", help: "Replace the service without downtime when PATH changes" },
  "notify-socket": { type: "string", arg: "PATH", help: "Bind NOTIFY_SOCKET at PATH or @name (default: a unique @name)" },
  json: { type: "boolean", help: "Log events as JSON lines (on stderr)" },
};

/** `sdkit run --help`. */
export const RUN_HELP = `sdkit run [OPTIONS...] COMMAND [ARGS...]

Run COMMAND as a supervised service, the way systemd runs a Type=notify unit:
it holds the -l sockets and passes them at fd 3, 4, ... (LISTEN_FDS, LISTEN_PID,
LISTEN_FDNAMES), gives NOTIFY_SOCKET, and acts on READY, RELOADING, STOPPING,
STATUS, MAINPID, WATCHDOG=1/trigger, WATCHDOG_USEC, EXTEND_TIMEOUT_USEC, ERRNO,
BARRIER and FDSTORE/FDNAME/FDSTOREREMOVE/FDPOLL. Works with any program.

Options:
${formatOptions(RUN_OPTIONS)}

Signals:
  SIGHUP          Start a new copy, wait for its READY=1, then stop the old one
                  (both share the sockets meanwhile: no connection is refused)
  SIGTERM/SIGINT  Stop the service and exit (a second SIGINT kills it at once)

A crash (non-zero exit, signal, watchdog, start timeout) restarts the service;
the delay doubles per consecutive failure and resets after 10 s of uptime.
Stored fds follow the listeners, named by FDNAME= (default "stored").
Each change prints a status line (state, pid, restarts, status text).
Exit status: 0 after SIGTERM/SIGINT, else the service's own exit status when
it exits and is not restarted (128+N for signal N).
`;

/** Parsed `sdkit run` settings. */
export interface RunConfig {
  listen: string[];
  specs: ReturnType<typeof parseListenSpec>[];
  names: string[];
  setenv: string[];
  watch: string[];
  json: boolean;
  options: Omit<SupervisorOptions, "env" | "listeners" | "log">;
}

function choice<T extends string>(flag: string, v: string | undefined, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) throw usageError(`${flag} must be one of ${allowed.join(", ")}, not ${JSON.stringify(v)}.`);
  return v as T;
}

/** Parses `sdkit run` arguments. */
export function parseRun(argv: string[]): RunConfig | "help" | "version" {
  const { head, command } = splitAtCommand(argv, RUN_OPTIONS);
  const { values: v } = parseOptions(head, RUN_OPTIONS);
  if (v.help) return "help";
  if (v.version) return "version";
  if (command.length === 0) throw usageError("The command to run is missing.");
  if (v.datagram && v.seqpacket) throw usageError("--datagram may not be combined with --seqpacket.");
  const type: SocketType = v.datagram ? "datagram" : v.seqpacket ? "seqpacket" : "stream";
  const listen = list(v.listen);
  const specs = listen.map((l) => parseListenSpec(l, type));
  const fdnames = splitFdnames(list(v.fdname));
  if (fdnames.length > 1 && fdnames.length !== specs.length) throw usageError(`${fdnames.length} --fdname names for ${specs.length} listeners: give one name for all, or one per listener.`);
  const names = specs.map((_, i) => fdnames[fdnames.length === 1 ? 0 : i] ?? "unknown");
  const span = (flag: string, dflt: number) => (str(v[flag]) === undefined ? dflt : parseTimespan(str(v[flag])!, `--${flag}`));
  const watchdogMs = span("watchdog-sec", 0);
  const notifyPath = str(v["notify-socket"]);
  if (notifyPath !== undefined && !/^[/@]/.test(notifyPath)) throw usageError("--notify-socket must be an absolute path or an @abstract name.");
  return {
    listen, specs, names,
    setenv: list(v.setenv).map(checkSetenv),
    watch: list(v.watch),
    json: v.json === true,
    options: {
      command,
      type: choice("--type", str(v.type), ["notify", "simple"] as const, "notify"),
      notifyAccess: choice("--notify-access", str(v["notify-access"]), ["none", "main", "all"] as const, "main"),
      watchdogUsec: Math.round(watchdogMs * 1000),
      fdstoreMax: str(v["fdstore-max"]) === undefined ? 0 : parseCount(str(v["fdstore-max"])!, "--fdstore-max", 65536),
      startTimeoutMs: span("timeout-start-sec", 90_000),
      stopTimeoutMs: span("timeout-stop-sec", 10_000),
      restart: choice("--restart", str(v.restart), ["no", "on-failure", "always"] as const, "on-failure"),
      restartDelayMs: span("restart-sec", 100),
      restartMaxDelayMs: span("restart-max-sec", 30_000),
      ...(notifyPath !== undefined ? { notifyPath } : {}),
    },
  };
}

/** Watches paths; calls `onChange` once per burst of changes. */
function watchPaths(paths: string[], onChange: (path: string) => void, log: (msg: string) => void): FSWatcher[] {
  let timer: NodeJS.Timeout | undefined;
  return paths.map((p) => {
    const w = watch(p, { recursive: true }, (_event, file) => {
      clearTimeout(timer);
      timer = setTimeout(() => onChange(file ? `${p}/${file}` : p), 200); // editors write in bursts
    });
    w.on("error", (e) => log(`watch ${p}: ${e.message}`));
    return w;
  });
}

/** Runs `sdkit run`; resolves with the exit code when the supervisor is done. */
export async function runMain(argv: string[], print: (s: string) => void): Promise<number> {
  const cfg = parseRun(argv);
  if (cfg === "help") { print(RUN_HELP); return 0; }
  if (cfg === "version") return -1;
  const log = new EventLog(cfg.json);
  const opened: OpenListener[] = [];
  for (const [i, spec] of cfg.specs.entries()) {
    try {
      opened.push(openListener(spec));
    } catch (e) {
      for (const l of opened) native().close(l.fd);
      process.stderr.write(`sdkit run: Failed to open '${cfg.listen[i]}': ${errorText(e)}\n`);
      return 1;
    }
  }
  const env = baseEnv(process.env, true);
  for (const k of [...ACTIVATION_VARS, "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "FDSTORE"]) env.delete(k);
  applySetenv(env, cfg.setenv, process.env);
  const sup = new Supervisor({ ...cfg.options, env, listeners: opened.map((l, i) => ({ fd: l.fd, name: cfg.names[i]! })), log });
  opened.forEach((l, i) => log.event("listening", { address: l.address, fd: 3 + i, name: cfg.names[i] }, { state: "starting", pid: null, restarts: 0, status: null }));

  let interrupts = 0;
  const onStop = (sig: NodeJS.Signals) => {
    if (sig === "SIGINT" && ++interrupts > 1) sup.killAll();
    void sup.shutdown(0);
  };
  const onHup = () => sup.replace("SIGHUP");
  process.on("SIGTERM", onStop).on("SIGINT", onStop).on("SIGHUP", onHup);
  const watchers = watchPaths(cfg.watch, (p) => sup.replace(`watch ${p}`), (m) => process.stderr.write(`sdkit run: ${m}\n`));
  sup.start();
  const code = await sup.done;
  for (const w of watchers) w.close();
  for (const l of opened) native().close(l.fd);
  process.off("SIGTERM", onStop).off("SIGINT", onStop).off("SIGHUP", onHup);
  return code;
}
