// Argument plumbing of the sdkit CLI and the accuracy of every --help text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SdError } from "../../src/errors.js";
import { parseOptions, parseTimespan, splitAtCommand, type OptionTable } from "../../src/cli/args.js";
import { ACTIVATE_HELP, ACTIVATE_OPTIONS, parseActivate } from "../../src/cli/activate.js";
import { UNIT_HELP, UNIT_OPTIONS } from "../../src/cli/unit.js";
import { NOTIFY_HELP, NOTIFY_OPTIONS, parseNotify } from "../../src/cli/notify.js";
import { RUN_HELP, RUN_OPTIONS, parseRun } from "../../src/cli/run.js";
import { restartDelay } from "../../src/cli/run-supervisor.js";

/** Every (help text, option table) pair; the notify and run commands register theirs too. */
const HELPS: [string, string, OptionTable][] = [["activate", ACTIVATE_HELP, ACTIVATE_OPTIONS], ["unit", UNIT_HELP, UNIT_OPTIONS], ["notify", NOTIFY_HELP, NOTIFY_OPTIONS], ["run", RUN_HELP, RUN_OPTIONS]];

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
    const start = help.indexOf("Options:") >= 0 ? help.indexOf("Options:") : help.indexOf("\n  -h");
    const section = help.slice(start, help.indexOf("\n\n", start + 2));
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

test("sdkit notify: systemd-notify's message order and flags", () => {
  const plan = parseNotify(["--ready", "--status=up", "--pid", "X_A=1"], 4242);
  assert.ok(typeof plan === "object");
  assert.deepEqual(plan.assignments, [["READY", "1"], ["STATUS", "up"], ["MAINPID", "4242"], ["X_A", "1"]]);
  assert.equal(plan.credPid, 4242);
  assert.equal(plan.barrierMs, undefined, "no barrier unless asked");
  const p2 = parseNotify(["--pid=77", "--barrier", "--reloading", "--no-block"], 1);
  assert.ok(typeof p2 === "object");
  assert.deepEqual(p2.assignments.map(([k]) => k), ["RELOADING", "MONOTONIC_USEC", "MAINPID"]);
  assert.deepEqual([p2.credPid, p2.barrierMs], [77, 5000]);
  assert.equal((parseNotify(["--barrier=250", "A=1"], 1) as { barrierMs: number }).barrierMs, 250);
  for (const bad of [["--pid=abc"], ["--pid=0"], ["NOEQUALS"], ["=x"], ["--barrier=soon"]]) assert.throws(() => parseNotify(bad, 1), usage, bad.join(" "));
});

test("sdkit run: defaults and checks", () => {
  const c = parseRun(["-l", "127.0.0.1:0", "-l", "@x", "--fdname", "web", "--watchdog-sec", "2s", "prog", "--flag"]);
  assert.ok(typeof c === "object");
  assert.deepEqual(c.options.command, ["prog", "--flag"]);
  assert.deepEqual(c.names, ["web", "web"]);
  assert.equal(c.options.watchdogUsec, 2_000_000);
  assert.deepEqual([c.options.type, c.options.notifyAccess, c.options.restart, c.options.fdstoreMax, c.options.restartDelayMs], ["notify", "main", "on-failure", 0, 100]);
  assert.deepEqual((parseRun(["-l", "1", "-l", "2", "p"]) as { names: string[] }).names, ["unknown", "unknown"]);
  for (const bad of [[], ["--type=forking", "p"], ["--restart=sometimes", "p"], ["-l", "1", "-l", "2", "--fdname=a:b:c", "p"], ["--notify-socket=rel", "p"], ["--watchdog-sec=soon", "p"]]) {
    assert.throws(() => parseRun(bad), usage, bad.join(" "));
  }
});

test("restart back-off doubles per consecutive failure and is capped", () => {
  assert.deepEqual([1, 2, 3, 4, 10, 100].map((n) => restartDelay(100, 30_000, n)), [100, 200, 400, 800, 30_000, 30_000]);
});
