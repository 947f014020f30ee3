/**
 * The HTTP examples (http-hello, express, sighup-replace) under a real systemd 252 user manager,
 * with their own unit files (paths rewritten to this checkout, a free port instead of the
 * default one), each checked with a real HTTP client.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { useUserManager } from "../harness/user-manager.js";
import { freePort } from "../harness/socket-activate.js";
import { alive, httpGet, httpLoad, installExample, logLine, readLog, requireBuild, tempDir, until } from "../fixtures/examples-kit.js";

before(requireBuild);
const manager = useUserManager({ version: 252 });
const dir = tempDir("sd-http");
after(() => rmSync(dir, { recursive: true, force: true }));

test("http-hello: the first request starts the service through its socket; READY with a status; stop, and the socket starts it again", async () => {
  const m = manager();
  const port = await freePort();
  const log = join(dir, "http-hello.log");
  await installExample(m, "http-hello", { replace: [["127.0.0.1:8080", `127.0.0.1:${port}`]], env: { PORT: String(port) }, log });
  assert.equal((await m.systemctl("start", "http-hello.socket")).code, 0);
  await m.waitFor("http-hello.socket", "SubState", "listening");
  assert.equal((await m.show("http-hello.service", ["ActiveState"])).ActiveState, "inactive", "nothing runs before the first connection");

  const res = await httpGet(port);
  const { MainPID, StatusText, NRestarts } = await m.show("http-hello.service", ["MainPID", "StatusText", "NRestarts"]);
  assert.deepEqual(res, { status: 200, body: `hello from pid ${MainPID}\n` }, readLog(log));
  assert.equal(StatusText, `serving http://127.0.0.1:${port}/`);
  assert.equal(NRestarts, "0");
  assert.equal(await logLine(log, /serving/), `pid ${MainPID} serving http://127.0.0.1:${port}/ (socket from the supervisor)`);

  assert.equal((await m.systemctl("stop", "http-hello.service")).code, 0);
  const stopped = await m.show("http-hello.service", ["ActiveState", "Result"]);
  assert.deepEqual([stopped.ActiveState, stopped.Result], ["inactive", "success"], "drained and exited 0 on SIGTERM");
  assert.equal((await m.show("http-hello.socket", ["SubState"])).SubState, "listening", "the socket stays");

  const again = await httpGet(port);
  const second = (await m.show("http-hello.service", ["MainPID"])).MainPID;
  assert.notEqual(second, MainPID);
  assert.deepEqual(again, { status: 200, body: `hello from pid ${second}\n` });
  await m.systemctl("stop", "http-hello.service", "http-hello.socket");
});

test("express: socket-activated Express app with READY, STATUS and watchdog pings (WatchdogSec=)", async () => {
  const m = manager();
  const port = await freePort();
  const log = join(dir, "express.log");
  // A short watchdog so a few pings happen while the test watches.
  await installExample(m, "express", { replace: [["127.0.0.1:8081", `127.0.0.1:${port}`], ["WatchdogSec=10", "WatchdogSec=2"]], env: { PORT: String(port) }, log });
  assert.equal((await m.systemctl("start", "express-app.socket")).code, 0);
  await m.waitFor("express-app.socket", "SubState", "listening");

  const res = await httpGet(port);
  assert.equal(res.status, 200, readLog(log));
  const { MainPID, WatchdogUSec, StatusText } = await m.show("express-app.service", ["MainPID", "WatchdogUSec", "StatusText"]);
  assert.deepEqual(JSON.parse(res.body), { hello: "express", pid: Number(MainPID) });
  assert.equal(WatchdogUSec, "2s");
  assert.match(StatusText!, new RegExp(`^(serving on port ${port}|\\d+ requests served)$`));

  // The manager records every WATCHDOG=1: its timestamp moves on, and the service is never killed.
  const stamp = async () => (await m.show("express-app.service", ["WatchdogTimestampMonotonic"])).WatchdogTimestampMonotonic!;
  let last = await stamp();
  for (let i = 0; i < 3; i++) {
    const before = last;
    last = await until(async () => { const s = await stamp(); return s !== before ? s : undefined; }, "a newer watchdog ping");
  }
  const after = await m.show("express-app.service", ["MainPID", "NRestarts", "ActiveState"]);
  assert.deepEqual([after.MainPID, after.NRestarts, after.ActiveState], [MainPID, "0", "active"]);
  const health = JSON.parse((await httpGet(port, "/health")).body) as { ok: boolean; served: number };
  assert.deepEqual(health, { ok: true, served: 2 });

  assert.equal((await m.systemctl("stop", "express-app.service")).code, 0);
  assert.equal((await m.show("express-app.service", ["Result"])).Result, "success");
  await m.systemctl("stop", "express-app.socket");
});

test("sighup-replace: systemctl reload hands the service to a new process (MainPID changes), twice, without a failed request", async () => {
  const m = manager();
  const port = await freePort();
  const log = join(dir, "sighup.log");
  await installExample(m, "sighup-replace", { replace: [["127.0.0.1:8083", `127.0.0.1:${port}`]], env: { PORT: String(port) }, log });
  assert.equal((await m.systemctl("start", "sighup-replace.socket")).code, 0);
  await m.waitFor("sighup-replace.socket", "SubState", "listening");
  assert.equal((await httpGet(port)).status, 200, readLog(log));
  let main = Number((await m.show("sighup-replace.service", ["MainPID"])).MainPID);

  const load = httpLoad(port);
  await until(() => (load.results.length >= 20 ? true : undefined), "requests flowing");
  for (let generation = 2; generation <= 3; generation++) {
    const r = await m.systemctl("reload", "sighup-replace.service");
    assert.equal(r.code, 0, r.stderr + readLog(log));
    // With Type=notify (252), the reload job ends when `kill -HUP` has run; the handover follows
    // (RELOADING=1 ... READY=1, MAINPID=). Type=notify-reload (253+) would wait for READY=1.
    const now = await m.waitFor("sighup-replace.service", "MainPID", new RegExp(`^(?!${main}$)[1-9]\\d*$`));
    const next = Number(now.MainPID);
    await until(() => (alive(main) ? undefined : true), `the old main process ${main} to exit`);
    const state = await m.show("sighup-replace.service", ["ActiveState", "SubState", "NRestarts"]);
    assert.deepEqual([state.ActiveState, state.SubState, state.NRestarts], ["active", "running", "0"]);
    await until(() => (load.results.some((x) => x.body.startsWith(`pid ${next},`)) ? true : undefined), `an answer from pid ${next}`);
    main = next;
  }
  await load.stop();
  const failed = load.results.filter((x) => x.status !== 200);
  assert.deepEqual(failed, [], `${failed.length} of ${load.results.length} requests failed`);

  assert.equal((await m.systemctl("stop", "sighup-replace.service")).code, 0);
  assert.equal((await m.show("sighup-replace.service", ["Result"])).Result, "success", readLog(log));
  await m.systemctl("stop", "sighup-replace.socket");
});
