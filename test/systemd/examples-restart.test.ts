/**
 * The restart examples under a real systemd 252 user manager: fdstore-restart (clients stay
 * connected across `systemctl restart` through the FD store; after kill -9 the stored listener
 * survives) and workers (socket-activated primary, workers in the same cgroup, rolling
 * replacement on `systemctl reload` without a failed request, clean stop).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { useUserManager } from "../harness/user-manager.js";
import { freePort } from "../harness/socket-activate.js";
import { LineClient, alive, httpGet, httpLoad, installExample, logLine, readLog, requireBuild, tempDir, until } from "../fixtures/examples-kit.js";

before(requireBuild);
const manager = useUserManager({ version: 252 });
const dir = tempDir("sd-restart");
after(() => rmSync(dir, { recursive: true, force: true }));

test("fdstore-restart: clients keep their TCP connections across systemctl restart; after kill -9 the stored listener lives on", async (t) => {
  const m = manager();
  const port = await freePort();
  const log = join(dir, "fdstore.log");
  const UNIT = "fdstore-restart.service";
  await installExample(m, "fdstore-restart", { env: { PORT: String(port) }, log });
  const start = await m.systemctl("start", UNIT);
  assert.equal(start.code, 0, start.stderr + readLog(log));
  let pid = Number((await m.show(UNIT, ["MainPID"])).MainPID);
  assert.equal(await logLine(log, /serving/), `pid ${pid} serving tcp 127.0.0.1:${port}, 0 connection(s) resumed`);
  assert.equal((await m.show(UNIT, ["NFileDescriptorStore"])).NFileDescriptorStore, "1", "the listener is in the store from the start");

  const a = await LineClient.connect(port), b = await LineClient.connect(port);
  t.after(() => { a.close(); b.close(); });
  for (const c of [a, b]) assert.equal(await c.line(/^hello/), `hello from pid ${pid}`);
  assert.equal(await a.ask("one"), `${pid}: one`);

  for (let i = 2; i <= 3; i++) {
    const aFrom = a.lines.length, bFrom = b.lines.length;
    const r = await m.systemctl("restart", UNIT);
    assert.equal(r.code, 0, r.stderr + readLog(log));
    const next = Number((await m.show(UNIT, ["MainPID"])).MainPID);
    assert.notEqual(next, pid);
    pid = next;
    assert.equal(await a.line(/^resumed/, aFrom), `resumed by pid ${pid}`, readLog(log));
    assert.equal(await b.line(/^resumed/, bFrom), `resumed by pid ${pid}`);
    assert.equal(await a.ask(`a${i}`), `${pid}: a${i}`);
    assert.equal(await b.ask(`b${i}`), `${pid}: b${i}`);
    const s = await m.show(UNIT, ["StatusText", "NFileDescriptorStore", "NRestarts"]);
    assert.equal(s.StatusText, `serving port ${port}, 2 connection(s) resumed`);
    assert.equal(s.NFileDescriptorStore, "1", "the connections left the store once resumed; the listener stays");
  }
  assert.equal(a.closed || b.closed, false, "neither connection was ever closed");

  // kill -9: nothing is handed over, so the connections end; the stored listener comes back.
  process.kill(pid, "SIGKILL");
  await until(() => (a.closed && b.closed ? true : undefined), "the connections of the killed process to close");
  await m.waitFor(UNIT, "NRestarts", "1");
  await m.waitFor(UNIT, "SubState", "running");
  const after = Number((await m.show(UNIT, ["MainPID"])).MainPID);
  assert.notEqual(after, pid);
  const c = await LineClient.connect(port);
  t.after(() => c.close());
  assert.equal(await c.line(/^hello/), `hello from pid ${after}`);
  assert.equal(await c.ask("after the crash"), `${after}: after the crash`);

  assert.equal((await m.systemctl("stop", UNIT)).code, 0);
  assert.equal((await m.show(UNIT, ["Result", "NFileDescriptorStore"])).NFileDescriptorStore, "0", "stop empties the store");
});

test("workers: the first request starts primary + 2 workers; systemctl reload replaces the workers without a failed request; stop ends them all", async () => {
  const m = manager();
  const port = await freePort();
  const log = join(dir, "workers.log");
  const UNIT = "workers.service";
  await installExample(m, "workers", { replace: [["127.0.0.1:8084", `127.0.0.1:${port}`]], env: { PORT: String(port) }, log });
  assert.equal((await m.systemctl("start", "workers.socket")).code, 0);
  await m.waitFor("workers.socket", "SubState", "listening");

  const first = await httpGet(port);
  assert.equal(first.status, 200, readLog(log));
  // The first response can come from the first worker before the second one reported in.
  await m.waitFor(UNIT, "StatusText", /^2 workers: \d+, \d+$/, 30_000);
  const { MainPID, StatusText, ControlGroup } = await m.show(UNIT, ["MainPID", "StatusText", "ControlGroup"]);
  const primary = Number(MainPID);
  const pidsOf = (s: string) => /^2 workers: (\d+), (\d+)$/.exec(s)!.slice(1).map(Number);
  const workers1 = pidsOf(StatusText!);
  for (const w of workers1) {
    assert.ok(readFileSync(`/proc/${w}/cgroup`, "utf8").trim().endsWith(ControlGroup!), `worker ${w} runs in the service's cgroup`);
  }
  const answeredBy = (body: string) => Number(/^worker [12], pid (\d+)\n$/.exec(body)?.[1]);
  assert.ok(workers1.includes(answeredBy(first.body)), `a worker answered: ${first.body}`);
  for (let i = 0; i < 10; i++) {
    const pid = answeredBy((await httpGet(port)).body);
    assert.ok(workers1.includes(pid) && pid !== primary, "only workers answer");
  }

  const load = httpLoad(port);
  await until(() => (load.results.length >= 20 ? true : undefined), "requests flowing");
  const r = await m.systemctl("reload", UNIT);
  assert.equal(r.code, 0, r.stderr);
  const status = await m.waitFor(UNIT, "StatusText", /^2 workers: /, 120_000);
  const workers2 = await until(async () => {
    const pids = pidsOf((await m.show(UNIT, ["StatusText"])).StatusText!);
    return pids.some((p) => workers1.includes(p)) ? undefined : pids;
  }, () => `new workers in StatusText (was ${status.StatusText})\n${readLog(log)}`, 120_000);
  await until(() => (workers1.some(alive) ? undefined : true), "the old workers to exit");
  await until(() => (load.results.some((x) => workers2.includes(answeredBy(x.body))) ? true : undefined), "an answer from a new worker");
  await load.stop();
  const failed = load.results.filter((x) => x.status !== 200);
  assert.deepEqual(failed, [], `${failed.length} of ${load.results.length} requests failed`);
  const s = await m.show(UNIT, ["MainPID", "NRestarts", "SubState"]);
  assert.deepEqual([Number(s.MainPID), s.NRestarts, s.SubState], [primary, "0", "running"], "the primary stayed");

  assert.equal((await m.systemctl("stop", UNIT)).code, 0);
  assert.equal((await m.show(UNIT, ["Result"])).Result, "success", "the primary stopped its workers and exited 0 (KillMode=mixed)");
  for (const w of [...workers2, primary]) assert.equal(alive(w), false, `pid ${w} is gone`);
  await m.systemctl("stop", "workers.socket");
});
