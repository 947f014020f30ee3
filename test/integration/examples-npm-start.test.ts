/**
 * `npm start`, verbatim: it runs the HTTP example under `sdkit run` on 127.0.0.1:8080 and prints
 * how to poke it, and that address answers. Run in a private network namespace (unshare -n),
 * so the fixed port never collides with anything else on the machine or in parallel tests; the
 * client runs in the same namespace (nsenter).
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/spawn.js";
import { requireBuild, until } from "../fixtures/examples-kit.js";

before(requireBuild);

/** Runs `node -e CODE` inside the network namespace of `pid`; resolves with its stdout. */
function inNamespace(pid: number, code: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("nsenter", ["-t", String(pid), "-n", "--", process.execPath, "-e", code], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

test("npm start serves HTTP on the address it prints, and stops on Ctrl-C", async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.start!, /\bsdkit|dist\/cli\/main\.js\b/, "npm start runs the sdkit CLI");
  assert.match(pkg.scripts.start!, /examples\/http-hello\/server\.js/, "on the HTTP example");

  // unshare execs sh, which execs npm: the child's pid is npm's, inside the new namespace.
  const child = spawn("unshare", ["-n", "--", "/bin/sh", "-c", "ip link set lo up && exec npm start"], {
    cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_update_notifier: "false" },
  });
  let out = "", err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const pgid = child.pid!;
  t.after(async () => {
    if (groupAlive(pgid)) process.kill(-pgid, "SIGKILL");
    await exited;
  });

  const tryLine = await until(() => out.split("\n").find((l) => l.startsWith("try: curl ")), () => `npm start to print "try: curl <url>"\nstdout: ${out}\nstderr: ${err}`);
  const url = tryLine.slice("try: curl ".length).trim();
  assert.equal(url, "http://127.0.0.1:8080/");
  assert.match(out, /^pid \d+ serving http:\/\/127\.0\.0\.1:8080\/ \(socket from the supervisor\)$/m);
  await until(() => (/sdkit run: ready/.test(err) ? true : undefined), () => `sdkit run to report READY=1\n${err}`);

  const body = await inNamespace(pgid, `require("http").get(${JSON.stringify(url)}, (r) => { let b = ""; r.on("data", (d) => b += d).on("end", () => process.stdout.write(r.statusCode + " " + b)); })`);
  const pid = /^pid (\d+) serving/m.exec(out)![1];
  assert.equal(body, `200 hello from pid ${pid}\n`);

  process.kill(-pgid, "SIGINT"); // what Ctrl-C in the terminal does: SIGINT to the whole foreground group
  await exited;
  await until(() => (groupAlive(pgid) ? undefined : true), "every process of npm start to exit");
  assert.match(err, /sdkit run: exit pid=\d+ code=0/, `the server stopped cleanly\n${err}`);
});
