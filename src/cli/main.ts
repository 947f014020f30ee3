#!/usr/bin/env node
/**
 * The `sdkit` command: dispatches to the subcommands. Usage errors print one line on stderr
 * and exit with 1 (EXIT_FAILURE, as systemd's own tools do).
 * @module
 */
import { readFileSync, realpathSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SdError } from "../errors.js";

/** `sdkit --help`. */
export const MAIN_HELP = `sdkit COMMAND [OPTIONS...]

systemd's socket activation and notification protocols, with or without systemd.

Commands:
  activate   Listen on sockets and start a program with them (like systemd-socket-activate)
  run        Supervise one service: sockets, READY/STATUS/WATCHDOG/FDSTORE, restarts,
             zero-downtime replacement on SIGHUP or file changes
  unit       Generate .service and .socket unit files for a daemon
  notify     Send a notification to the service manager (like systemd-notify)

Options:
  -h --help     Show this help and exit
     --version  Print version string and exit

Run 'sdkit COMMAND --help' for the options of a command.
`;

/** The package version, read from package.json next to src/ or dist/. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function out(s: string): void {
  writeSync(1, s.endsWith("\n") ? s : s + "\n");
}

type Command = (argv: string[], print: (s: string) => void) => Promise<number>;

async function load(name: string): Promise<Command | undefined> {
  switch (name) {
    case "activate": return (await import("./activate.js")).activateMain;
    case "unit": return (await import("./unit.js")).unitMain;
    case "notify": return (await import("./notify.js")).notifyMain;
    case "run": return (await import("./run.js")).runMain;
    default: return undefined;
  }
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "-h" || cmd === "--help" || cmd === "help") {
    if (cmd === "help" && rest[0]) return main([rest[0], "--help"]);
    out(MAIN_HELP);
    return cmd === undefined ? 1 : 0;
  }
  if (cmd === "--version") { out(`sdkit ${packageVersion()}`); return 0; }
  const run = await load(cmd);
  if (!run) {
    process.stderr.write(`sdkit: unknown command ${JSON.stringify(cmd)}. Commands: activate, run, unit, notify (see sdkit --help).\n`);
    return 1;
  }
  try {
    const code = await run(rest, out);
    if (code === -1) { out(`sdkit ${packageVersion()}`); return 0; }
    return code;
  } catch (e) {
    if (e instanceof SdError && e.code === "ERR_SD_CLI_USAGE") {
      process.stderr.write(`${e.message.startsWith("sdkit") ? "" : `sdkit ${cmd}: `}${e.message}\n`);
      return 1;
    }
    process.stderr.write(`sdkit ${cmd}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

// Run when executed directly (node dist/cli/main.js, the `sdkit` bin, or tsx src/cli/main.ts).
function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}
if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (e: unknown) => { process.stderr.write(`sdkit: ${e instanceof Error ? e.stack : String(e)}\n`); process.exitCode = 1; },
  );
}
