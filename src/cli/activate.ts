/**
 * `sdkit activate`: systemd-socket-activate, plus mixed listener kinds in one run (type prefixes
 * per `-l`), FIFOs, port 0, `--now` and `--inherit-env`.
 *
 * Without `--accept` the program replaces this process (execve via the addon), so its pid is
 * ours and `LISTEN_PID` is right, exactly like the original. Like the original, it waits for the
 * first connection (or datagram, or FIFO write) before exec'ing; `--now` execs at once.
 * @module
 */
import { writeSync } from "node:fs";
import { native } from "../native/binding.js";
import { listenFdsWithNames } from "../activation/inherit.js";
import { SdError } from "../errors.js";
import { formatOptions, list, parseOptions, splitAtCommand, usageError, type OptionTable } from "./args.js";
import { parseListenSpec, type ListenSpec, type SocketType } from "./listen-spec.js";
import { errorText, openListener, type OpenListener } from "./sockets.js";
import { applySetenv, baseEnv, checkSetenv, envList, fdnameIsValid, resolveFdnames, splitFdnames } from "./child-env.js";
import { execInPlace } from "./exec.js";
import { runAcceptLoop } from "./activate-accept.js";

/** The option table: drives both parsing and `--help`. */
export const ACTIVATE_OPTIONS: OptionTable = {
  help: { type: "boolean", short: "h", help: "Show this help and exit" },
  version: { type: "boolean", help: "Print version string and exit" },
  listen: { type: "string", short: "l", multiple: true, arg: "ADDR", help: "Listen at ADDR (repeatable; see ADDRESSES below)" },
  datagram: { type: "boolean", short: "d", help: "Listeners without a type prefix are datagram sockets" },
  seqpacket: { type: "boolean", help: "Listeners without a type prefix are SOCK_SEQPACKET sockets" },
  accept: { type: "boolean", short: "a", help: "Spawn a separate child for each connection" },
  setenv: { type: "string", short: "E", multiple: true, arg: "NAME[=VALUE]", help: "Pass an environment variable to children (bare NAME copies ours)" },
  environment: { type: "string", multiple: true, arg: "NAME[=VALUE]", help: "Same as --setenv (legacy alias)" },
  fdname: { type: "string", multiple: true, arg: "NAME[:NAME...]", help: "Names for the fds, in order; one name applies to all" },
  now: { type: "boolean", help: "Start the program at once instead of on the first connection" },
  "inherit-env": { type: "boolean", help: "Pass our whole environment, not just TERM, PATH, USER, HOME" },
};

/** `sdkit activate --help`. */
export const ACTIVATE_HELP = `sdkit activate [OPTIONS...] COMMAND [ARGS...]

Listen on sockets and launch COMMAND on the first connection, with the sockets at
fd 3, 4, ... and LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES set, like
systemd-socket-activate.

Options:
${formatOptions(ACTIVATE_OPTIONS)}

ADDRESSES:
  PORT  1.2.3.4:PORT  [::1]:PORT  /path  @abstract
  A bare PORT listens on [::]:PORT (IPv4 and IPv6). Port 0 picks a free port.
  A prefix sets the kind of one listener, overriding -d/--seqpacket:
  tcp:ADDR  udp:ADDR  stream:ADDR  datagram:ADDR (or dgram:)  seqpacket:ADDR
  fifo:/path (a FIFO, like ListenFIFO=)

Without --accept, COMMAND replaces sdkit (same pid, so LISTEN_PID is right).
With --accept, each connection gets its own COMMAND with the connection at fd 3,
LISTEN_FDNAMES=connection (or the --fdname of its listener), REMOTE_ADDR and
REMOTE_PORT. The program sees only TERM, PATH, USER, HOME, the LISTEN_* variables
and -E variables unless --inherit-env is given (pass -E NOTIFY_SOCKET to notify).
File descriptors passed to sdkit itself (LISTEN_FDS) are passed on first.
Exit status: COMMAND's own (it replaces sdkit), or 1 on errors.
`;

/** What the command line asks for. */
export interface ActivateConfig {
  /** The `-l` arguments as given (for messages) and parsed. */
  listen: string[];
  specs: ListenSpec[];
  accept: boolean;
  setenv: string[];
  fdnames: string[];
  now: boolean;
  inheritEnv: boolean;
  command: string[];
}

/** Parses `sdkit activate` arguments; null means help/version was printed. */
export function parseActivate(argv: string[]): ActivateConfig | "help" | "version" {
  const { head, command } = splitAtCommand(argv, ACTIVATE_OPTIONS);
  const { values: v } = parseOptions(head, ACTIVATE_OPTIONS);
  if (v.help) return "help";
  if (v.version) return "version";
  if (v.datagram && v.seqpacket) throw usageError("--datagram may not be combined with --seqpacket.");
  if (command.length === 0) throw usageError("sdkit activate: command to execute is missing.");
  const type: SocketType = v.datagram ? "datagram" : v.seqpacket ? "seqpacket" : "stream";
  const listen = list(v.listen);
  const specs = listen.map((l) => parseListenSpec(l, type));
  if (v.accept && specs.some((s) => s.fifo)) throw usageError("A FIFO cannot accept connections: --accept needs stream sockets.");
  if (v.accept && specs.some((s) => s.type === "datagram")) {
    throw usageError("Datagram sockets do not accept connections. The --datagram and --accept options may not be combined.");
  }
  if (v.accept && specs.some((s) => s.type === "seqpacket")) throw usageError("sdkit activate --accept supports stream sockets only (Node cannot accept SOCK_SEQPACKET connections).");
  const setenv = [...list(v.setenv), ...list(v.environment)].map(checkSetenv);
  const fdnames = splitFdnames(list(v.fdname));
  return { listen, specs, accept: v.accept === true, setenv, fdnames, now: v.now === true, inheritEnv: v["inherit-env"] === true, command };
}

function log(line: string): void {
  writeSync(2, line + "\n");
}

/** Waits until any fd is readable (a connection, a datagram, FIFO data): the "activation". */
function waitForActivity(fds: number[]): Promise<number> {
  const n = native();
  return new Promise((resolve) => {
    const handles: object[] = [];
    const done = (fd: number) => {
      for (const h of handles) n.pollStop(h);
      resolve(fd);
    };
    for (const fd of fds) {
      const h = n.pollStart(fd, 1, () => done(fd));
      if (typeof h === "number") throw new SdError("ERR_SD_SYSCALL", `Failed to add event for fd:${fd}`);
      handles.push(h);
    }
  });
}

/** Runs `sdkit activate`; resolves with the exit code (only on failure without --accept). */
export async function activateMain(argv: string[], print: (s: string) => void): Promise<number> {
  const cfg = parseActivate(argv);
  if (cfg === "help") { print(ACTIVATE_HELP); return 0; }
  if (cfg === "version") return -1;
  const inheritedNamesSet = process.env.LISTEN_FDNAMES !== undefined;
  let inherited: { count: number; names: string[] };
  try {
    inherited = listenFdsWithNames();
  } catch (e) {
    log(`Failed to read listening file descriptors from environment: ${(e as Error).message}`);
    return 1;
  }
  if (inherited.count > 0) log(`Received ${inherited.count} descriptors via the environment.`);
  const opened: OpenListener[] = [];
  for (const [i, spec] of cfg.specs.entries()) {
    try {
      opened.push(openListener(spec));
    } catch (e) {
      log(`Failed to open '${cfg.listen[i]}': ${errorText(e)}`);
      return 1;
    }
  }
  const fds = [...Array.from({ length: inherited.count }, (_, i) => 3 + i), ...opened.map((l) => l.fd)];
  if (fds.length === 0) { log("No sockets to listen on specified or passed in."); return 1; }
  opened.forEach((l, i) => log(`Listening on ${l.address} as ${3 + inherited.count + i}.`));
  for (const name of cfg.fdnames) if (!fdnameIsValid(name)) log(`File descriptor name ${JSON.stringify(name)} is not valid.`);

  if (cfg.accept) return runAcceptLoop(cfg, fds, cfg.fdnames, log);

  // uv_poll makes the fds non-blocking; the program must get them as we created them.
  const flags = fds.map((fd) => native().getFlags(fd, 1));
  if (!cfg.now) {
    const fd = await waitForActivity(fds);
    log(`Communication attempt on fd ${3 + fds.indexOf(fd)}.`);
  }
  fds.forEach((fd, i) => { if (flags[i]! >= 0) native().setFl(fd, flags[i]!); });

  const env = baseEnv(process.env, cfg.inheritEnv);
  env.set("LISTEN_FDS", String(fds.length));
  env.set("LISTEN_PID", String(process.pid));
  const { names, warning } = resolveFdnames(cfg.fdnames, fds.length, inheritedNamesSet ? inherited.names : undefined);
  if (warning) log(warning);
  if (names) env.set("LISTEN_FDNAMES", names.join(":"));
  applySetenv(env, cfg.setenv, process.env);
  const joined = cfg.command.join(" ");
  log(`Execing ${cfg.command[0]} (${joined})`);
  let err: SdError;
  try {
    err = execInPlace(cfg.command[0]!, cfg.command, envList(env), fds);
  } catch (e) {
    err = e as SdError;
  }
  log(`Failed to execp ${cfg.command[0]} (${joined}): ${errorText(err)}`);
  return 1;
}
