// `sdkit --help` and every subcommand's --help, as a user runs them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { ROOT } from "../helpers/spawn.js";
import { SDKIT, finish } from "../fixtures/cli-kit.js";
import { MAIN_HELP, packageVersion } from "../../src/cli/main.js";
import { ACTIVATE_HELP } from "../../src/cli/activate.js";
import { UNIT_HELP } from "../../src/cli/unit.js";
import { NOTIFY_HELP } from "../../src/cli/notify.js";
import { RUN_HELP } from "../../src/cli/run.js";

const sdkit = (args: string[]) => finish(spawn(SDKIT[0]!, [...SDKIT.slice(1), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));

test("--help of sdkit and of each command prints the documented text and exits 0", async () => {
  const cases: [string[], string][] = [[["--help"], MAIN_HELP], [["activate", "--help"], ACTIVATE_HELP], [["run", "-h"], RUN_HELP],
    [["unit", "--help"], UNIT_HELP], [["notify", "--help"], NOTIFY_HELP], [["help", "run"], RUN_HELP]];
  const results = await Promise.all(cases.map(([args]) => sdkit(args)));
  results.forEach((r, i) => {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, cases[i]![1], cases[i]![0].join(" "));
  });
  for (const cmd of ["activate", "run", "unit", "notify"]) assert.match(MAIN_HELP, new RegExp(`^  ${cmd} `, "m"));
});

test("--version, unknown commands, no command", async () => {
  const [v, bad, none] = await Promise.all([sdkit(["--version"]), sdkit(["frobnicate"]), sdkit([])]);
  assert.equal(v.stdout.trim(), `sdkit ${packageVersion()}`);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown command "frobnicate"/);
  assert.equal(none.code, 1);
  assert.equal(none.stdout, MAIN_HELP);
});

// CI caught this: `npx sdkit` in the checkout runs dist/cli/main.js itself (the root package's
// bin is not linked, so npm does not chmod it); tsc writes it 0644, and sh said "Permission
// denied". The build must leave it executable, as the READMEs' `npx sdkit run …` lines need.
test("npx sdkit runs the built CLI from the checkout (the bin is executable after a build)", async () => {
  const r = await finish(spawn("npx", ["--no-install", "sdkit", "--version"], {
    cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_update_notifier: "false" },
  }));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), `sdkit ${packageVersion()}`);
});
