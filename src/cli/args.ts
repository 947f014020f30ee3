/**
 * Command-line plumbing shared by the subcommands: one option table per command drives both
 * the parser (node:util parseArgs) and the help text, so the two cannot drift apart.
 * @module
 */
import { parseArgs } from "node:util";
import { SdError } from "../errors.js";

/** One option of a subcommand: its parser settings plus the help line. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Placeholder shown in the help (`ADDR` → `--listen=ADDR`). */
  arg?: string;
  /** A string option whose value is optional (`--pid` or `--pid=PID`, as getopt's optional_argument): bare, it parses as "". */
  optionalValue?: boolean;
  help: string;
}

/** A subcommand's option table, keyed by long name. */
export type OptionTable = Record<string, OptionSpec>;

/** Parsed values: strings, booleans or arrays of strings, by long name. */
export type Values = Record<string, string | boolean | string[] | undefined>;

/** A usage error: the CLI prints the message and exits with 1 (EXIT_FAILURE, as systemd's tools do). */
export function usageError(message: string): SdError {
  return new SdError("ERR_SD_CLI_USAGE", message);
}

function takesValue(table: OptionTable, arg: string): boolean {
  if (arg.startsWith("--")) {
    if (arg.includes("=")) return false;
    const o = table[arg.slice(2)];
    return o?.type === "string" && !o.optionalValue;
  }
  // A short bundle (-ad, -lADDR): the first string option consumes the rest or the next arg.
  for (let i = 1; i < arg.length; i++) {
    const spec = Object.values(table).find((o) => o.short === arg[i]);
    if (!spec) return false;
    if (spec.type === "string") return i === arg.length - 1;
  }
  return false;
}

/**
 * Splits argv into the options part and the command to run, like getopt's "+" mode: options
 * end at `--` (which is dropped) or at the first argument that is not an option. So
 * `sdkit activate -l 80 node server.js --port 5` leaves `--port 5` to the program.
 */
export function splitAtCommand(argv: string[], table: OptionTable): { head: string[]; command: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") return { head: argv.slice(0, i), command: argv.slice(i + 1) };
    if (!a.startsWith("-") || a === "-") return { head: argv.slice(0, i), command: argv.slice(i) };
    if (takesValue(table, a)) i++;
  }
  return { head: argv, command: [] };
}

/** Parses `args` (options only, or with positionals when allowed); parse failures become usage errors. */
export function parseOptions(args: string[], table: OptionTable, allowPositionals = false): { values: Values; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(table)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  // Optional values exist only in the --name=VALUE form; a bare --name means "no value" ("").
  const end = args.indexOf("--") < 0 ? args.length : args.indexOf("--");
  args = args.map((a, i) => (i < end && a.startsWith("--") && table[a.slice(2)]?.optionalValue ? `${a}=` : a));
  try {
    const r = parseArgs({ args, options, strict: true, allowPositionals });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (e) {
    // parseArgs messages are good ("Unknown option '--bogus'"); drop its hint about "--".
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw usageError(msg.endsWith(".") ? msg : msg + ".");
  }
}

/** Formats the option table as help lines (`  -l --listen=ADDR   text`). */
export function formatOptions(table: OptionTable): string {
  const rows = Object.entries(table).map(([name, o]) => {
    const value = o.type !== "string" ? "" : o.optionalValue ? `[=${o.arg ?? "VALUE"}]` : `=${o.arg ?? "VALUE"}`;
    const left = `${o.short ? `-${o.short} ` : "   "}--${name}${value}`;
    return [left, o.help] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows
    .map(([l, h]) => {
      const [first, ...rest] = h.split("\n");
      return [`  ${l.padEnd(width)}${first}`, ...rest.map((r) => `  ${" ".repeat(width)}${r}`)].join("\n");
    })
    .join("\n");
}

/** Strings of a `multiple` string option (empty when not given). */
export function list(v: Values[string]): string[] {
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
}

/** A string option's value, or undefined. */
export function str(v: Values[string]): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Parses a non-negative decimal integer option; `what` names it in the error. */
export function parseCount(text: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d{1,15}$/.test(text) || Number(text) > max) throw usageError(`${what} must be a whole number from 0 to ${max}, not ${JSON.stringify(text)}.`);
  return Number(text);
}

/**
 * Parses a systemd-style time span ("30", "30s", "500ms", "1min 30s", "2h") into milliseconds.
 * A bare number means seconds, as in unit files.
 */
export function parseTimespan(text: string, what: string): number {
  const units: Record<string, number> = {
    us: 0.001, usec: 0.001, ms: 1, msec: 1, "": 1000, s: 1000, sec: 1000, second: 1000, seconds: 1000,
    m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000, h: 3_600_000, hr: 3_600_000, hour: 3_600_000, hours: 3_600_000,
    d: 86_400_000, day: 86_400_000, days: 86_400_000,
  };
  const parts = text.trim().split(/\s+/);
  let total = 0;
  for (const p of parts) {
    const m = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(p);
    const unit = m ? units[m[2]!] : undefined;
    if (!m || unit === undefined) throw usageError(`${what} must be a time span such as 30, 30s, 500ms or "1min 30s", not ${JSON.stringify(text)}.`);
    total += Number(m[1]) * unit;
  }
  return total;
}
