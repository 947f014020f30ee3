// Argument plumbing of the sdkit CLI and the accuracy of every --help text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SdError } from "../../src/errors.js";
import { parseOptions, parseTimespan, splitAtCommand, type OptionTable } from "../../src/cli/args.js";
import { ACTIVATE_HELP, ACTIVATE_OPTIONS, parseActivate } from "../../src/cli/activate.js";
import { UNIT_HELP, UNIT_OPTIONS } from "../../src/cli/unit.js";

/** Every (help text, option table) pair; the notify and run commands register theirs too. */
const HELPS: [string, string, OptionTable][] = [["activate", ACTIVATE_HELP, ACTIVATE_OPTIONS], ["unit", UNIT_HELP, UNIT_OPTIONS]];

const usage = (e: unknown) => e instanceof SdError && e.code === "ERR_SD_CLI_USAGE";

test("options end at the first program argument or at --, like getopt's + mode", () => {
  const t = ACTIVATE_OPTIONS;
  assert.deepEqual(splitAtCommand(["-l", "80", "node", "s.js", "-l", "9"], t), { head: ["-l", "80"], command: ["node", "s.js", "-l", "9"] });
  assert.deepEqual(splitAtCommand(["-l80", "-da", "--fdname=x", "prog"], t), { head: ["-l80", "-da", "--fdname=x"], command: ["prog"] });
  assert.deepEqual(splitAtCommand(["--listen", "80", "--", "-prog"], t), { head: ["--listen", "80"], command: ["-prog"] });
  assert.deepEqual(splitAtCommand(["-E", "X", "-"], t), { head: ["-E", "X"], command: ["-"] });
});

test("parse errors are usage errors", () => {
  assert.throws(() => parseOptions(["--nope"], ACTIVATE_OPTIONS), usage);
  assert.throws(() => parseOptions(["--listen"], ACTIVATE_OPTIONS), usage);
  assert.throws(() => parseActivate(["-l", "80"]), (e: unknown) => usage(e) && /command to execute is missing/.test((e as Error).message));
  assert.throws(() => parseActivate(["-E", "=x", "-l", "80", "p"]), usage);
});

test("time spans", () => {
  assert.equal(parseTimespan("30", "x"), 30_000);
  assert.equal(parseTimespan("500ms", "x"), 500);
  assert.equal(parseTimespan("1min 30s", "x"), 90_000);
  assert.equal(parseTimespan("1.5s", "x"), 1500);
  for (const bad of ["", "s", "-1", "1 fortnight", "1e3"]) assert.throws(() => parseTimespan(bad, "x"), usage, bad);
});

test("every help text lists exactly the options its parser accepts", () => {
  for (const [name, help, table] of HELPS) {
    const section = help.slice(help.indexOf("Options:"), help.indexOf("\n\n", help.indexOf("Options:")));
    const mentioned = new Set([...section.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]!));
    assert.deepEqual(mentioned, new Set(Object.keys(table)), `${name}: options in help vs parser`);
    for (const [long, o] of Object.entries(table)) {
      if (o.short) assert.match(section, new RegExp(`-${o.short} --${long}\\b`), `${name}: -${o.short}`);
      // and the parser really takes each option in the form the help shows
      const args = o.type === "string" ? [`--${long}=v`] : [`--${long}`];
      assert.doesNotThrow(() => parseOptions(args, table), `${name} --${long}`);
    }
  }
});
