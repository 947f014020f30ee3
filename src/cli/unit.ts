/**
 * `sdkit unit`: writes (or prints) a `.service` and `.socket` units for a Node daemon from
 * flags. The generation itself is the pure {@link generateUnits}.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatOptions, list, parseCount, parseOptions, splitAtCommand, str, usageError, type OptionTable } from "./args.js";
import { parseListenSpec, type SocketType } from "./listen-spec.js";
import { splitFdnames } from "./child-env.js";
import { generateUnits, NOTIFY_ACCESS, RESTART_POLICIES, SERVICE_TYPES, type UnitSpec } from "./unit-file.js";

/** The option table: drives both parsing and `--help`. */
export const UNIT_OPTIONS: OptionTable = {
  help: { type: "boolean", short: "h", help: "Show this help and exit" },
  version: { type: "boolean", help: "Print version string and exit" },
  name: { type: "string", short: "n", arg: "NAME", help: "Unit name: NAME.service and NAME.socket (required)" },
  description: { type: "string", arg: "TEXT", help: "Description= (default: \"NAME (Node.js service)\")" },
  type: { type: "string", arg: "TYPE", help: `Type= of the service: ${SERVICE_TYPES.join(", ")} (default notify;\nnotify-reload needs systemd 253 or newer)` },
  listen: { type: "string", short: "l", multiple: true, arg: "ADDR", help: "Add a listener to the socket unit (same syntax as sdkit activate -l)" },
  datagram: { type: "boolean", short: "d", help: "Listeners without a type prefix are datagram sockets" },
  seqpacket: { type: "boolean", help: "Listeners without a type prefix are SOCK_SEQPACKET sockets" },
  fdname: { type: "string", multiple: true, arg: "NAME[:NAME...]", help: "FileDescriptorName= per listener, in order; one name applies to all.\nEach distinct name gets its own socket unit" },
  "watchdog-sec": { type: "string", arg: "SPAN", help: "WatchdogSec= (e.g. 30s)" },
  "fdstore-max": { type: "string", arg: "N", help: "FileDescriptorStoreMax= (keep N fds across restarts)" },
  "reload-signal": { type: "string", arg: "SIG", help: "Add ExecReload=/bin/kill -s SIG $MAINPID (e.g. HUP)" },
  restart: { type: "string", arg: "POLICY", help: `Restart= (${RESTART_POLICIES.join(", ")}; default on-failure)` },
  "restart-sec": { type: "string", arg: "SPAN", help: "RestartSec=" },
  "notify-access": { type: "string", arg: "WHO", help: `NotifyAccess= (${NOTIFY_ACCESS.join(", ")})` },
  setenv: { type: "string", short: "E", multiple: true, arg: "NAME=VALUE", help: "Add an Environment= assignment" },
  "working-directory": { type: "string", arg: "DIR", help: "WorkingDirectory=" },
  user: { type: "string", arg: "USER", help: "User=" },
  group: { type: "string", arg: "GROUP", help: "Group=" },
  "wanted-by": { type: "string", arg: "TARGET", help: "WantedBy= of the service (default multi-user.target)" },
  "no-hardening": { type: "boolean", help: "Leave out the sandboxing defaults (NoNewPrivileges=, ProtectSystem=strict, ...)" },
  "output-dir": { type: "string", short: "o", arg: "DIR", help: "Write the files into DIR instead of printing them" },
};

/** `sdkit unit --help`. */
export const UNIT_HELP = `sdkit unit [OPTIONS...] COMMAND [ARGS...]

Generate systemd unit files for a daemon: NAME.service (Type=notify by default,
with sandboxing defaults) and, when -l is given, NAME.socket plus one more socket
unit for each further --fdname. COMMAND must be an absolute path (or a plain
command name) and is quoted for ExecStart= as needed.

Options:
${formatOptions(UNIT_OPTIONS)}

Values with newlines or other control characters are refused, so no flag can add
lines or sections to the files. Check the result with: systemd-analyze verify FILE

Example:
  sdkit unit -n web -l 80 --fdname http --watchdog-sec 30s --fdstore-max 8 \\
    --reload-signal HUP -o /etc/systemd/system -- /usr/bin/node /srv/web/server.js
`;

/** Turns `sdkit unit` arguments into a {@link UnitSpec} (throws usage errors). */
export function parseUnit(argv: string[]): { spec: UnitSpec; outputDir?: string } | "help" | "version" {
  const { head, command } = splitAtCommand(argv, UNIT_OPTIONS);
  const { values: v } = parseOptions(head, UNIT_OPTIONS);
  if (v.help) return "help";
  if (v.version) return "version";
  const name = str(v.name);
  if (name === undefined) throw usageError("--name is required (the unit's base name).");
  if (command.length === 0) throw usageError("The command to run is missing (give it after the options).");
  if (v.datagram && v.seqpacket) throw usageError("--datagram may not be combined with --seqpacket.");
  const type: SocketType = v.datagram ? "datagram" : v.seqpacket ? "seqpacket" : "stream";
  const specs = list(v.listen).map((l) => parseListenSpec(l, type));
  const names = splitFdnames(list(v.fdname));
  if (names.length > 1 && names.length !== specs.length) throw usageError(`${names.length} --fdname names for ${specs.length} listeners: give one name for all, or one per listener.`);
  const spec: UnitSpec = {
    name,
    exec: command,
    listen: specs.map((s, i) => ({ spec: s, ...(names.length ? { fdname: names[names.length === 1 ? 0 : i]! } : {}) })),
    hardening: v["no-hardening"] !== true,
    environment: list(v.setenv).map((a) => {
      const eq = a.indexOf("=");
      if (eq < 0) throw usageError(`-E needs NAME=VALUE here, not ${JSON.stringify(a)}.`);
      return [a.slice(0, eq), a.slice(eq + 1)] as [string, string];
    }),
  };
  const s = (k: string) => str(v[k]);
  if (s("description") !== undefined) spec.description = s("description")!;
  if (s("type") !== undefined) spec.type = s("type") as UnitSpec["type"];
  if (s("watchdog-sec") !== undefined) spec.watchdogSec = s("watchdog-sec")!;
  if (s("fdstore-max") !== undefined) spec.fdstoreMax = parseCount(s("fdstore-max")!, "--fdstore-max", 65536);
  if (s("reload-signal") !== undefined) spec.reloadSignal = s("reload-signal")!;
  if (s("restart") !== undefined) spec.restart = s("restart") as UnitSpec["restart"];
  if (s("restart-sec") !== undefined) spec.restartSec = s("restart-sec")!;
  if (s("notify-access") !== undefined) spec.notifyAccess = s("notify-access") as UnitSpec["notifyAccess"];
  if (s("working-directory") !== undefined) spec.workingDirectory = s("working-directory")!;
  if (s("user") !== undefined) spec.user = s("user")!;
  if (s("group") !== undefined) spec.group = s("group")!;
  if (s("wanted-by") !== undefined) spec.wantedBy = s("wanted-by")!;
  return { spec, ...(s("output-dir") !== undefined ? { outputDir: s("output-dir")! } : {}) };
}

/** Runs `sdkit unit`. */
export async function unitMain(argv: string[], print: (s: string) => void): Promise<number> {
  const r = parseUnit(argv);
  if (r === "help") { print(UNIT_HELP); return 0; }
  if (r === "version") return -1;
  const files = generateUnits(r.spec);
  if (r.outputDir !== undefined) {
    mkdirSync(r.outputDir, { recursive: true });
    for (const f of files) {
      const path = join(r.outputDir, f.name);
      writeFileSync(path, f.text, { mode: 0o644 });
      print(path);
    }
    return 0;
  }
  print(files.length === 1 ? files[0]!.text : files.map((f) => `# ==> ${f.name} <==\n${f.text}`).join("\n"));
  return 0;
}
