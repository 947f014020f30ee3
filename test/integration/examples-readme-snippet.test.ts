/**
 * The code at the top of README.md runs as printed: under `sdkit run` (in a private network
 * namespace, for its fixed port 8080) it serves, reports READY with its status, replaces
 * itself without downtime on SIGHUP (the successor tells its predecessor; the predecessor hands
 * over with MAINPID=), and stops on Ctrl-C. Only the import specifier is pointed at this
 * checkout's build, since the copy runs from a temporary directory.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "../helpers/spawn.js";
import { CLI, alive, requireBuild, until } from "../fixtures/examples-kit.js";

before(requireBuild);

function getInNamespace(pid: number, url: string): Promise<string> {
  const code = `require("http").get(${JSON.stringify(url)}, (r) => r.pipe(process.stdout)).on("error", (e) => { console.error(e.message); process.exit(1); })`;
  return new Promise((resolve, reject) => {
    execFile("nsenter", ["-t", String(pid), "-n", "--", process.execPath, "-e", code], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

test("README.md's first code block serves under sdkit run, hands over on SIGHUP, and stops on Ctrl-C", async (t) => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const code = /^```js\n([\s\S]*?)^```$/m.exec(readme)?.[1];
  assert.ok(code && code.includes('from "sdkit"'), "the README starts with a JavaScript example importing sdkit");
  const dir = mkdtempSync(join(tmpdir(), "sdkit-readme-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "readme.mjs");
  writeFileSync(file, code.replace('from "sdkit"', `from ${JSON.stringify(pathToFileURL(join(ROOT, "dist", "index.js")).href)}`));

  const child = spawn("unshare", ["-n", "--", "/bin/sh", "-c", 'ip link set lo up && exec "$0" "$@"', process.execPath, CLI, "run", "-l", "127.0.0.1:8080", "--fdname", "web", "--", process.execPath, file], {
    cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  child.stdout.resume();
  const exited = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
  const ns = child.pid!;
  t.after(async () => {
    try { process.kill(-ns, "SIGKILL"); } catch { /* gone */ }
    await exited;
  });

  await until(() => (/^sdkit run: ready$/m.test(err) ? true : undefined), () => `READY=1\n${err}`);
  assert.match(err, /^sdkit run: status pid=\d+ text=serving$/m);
  assert.equal(await getInNamespace(ns, "http://127.0.0.1:8080/"), "hello\n");

  const first = Number(/^sdkit run: start instance=1 pid=(\d+)/m.exec(err)![1]);
  process.kill(first, "SIGHUP");
  const handover = await until(() => /^sdkit run: mainpid oldPid=(\d+) newPid=(\d+)$/m.exec(err) ?? undefined, () => `MAINPID= from the old process\n${err}`);
  assert.equal(Number(handover[1]), first);
  const next = Number(handover[2]);
  await until(() => (alive(first) ? undefined : true), "the old process to exit");
  assert.equal(await getInNamespace(ns, "http://127.0.0.1:8080/"), "hello\n", "the new process serves");
  assert.ok(alive(next));

  process.kill(-ns, "SIGINT"); // Ctrl-C
  assert.equal(await exited, 0, err);
  assert.match(err, new RegExp(`^sdkit run: stopping pid=${next}$`, "m"), "the new process said STOPPING=1");
});
