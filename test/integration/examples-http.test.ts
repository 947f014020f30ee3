/**
 * The HTTP examples (http-hello, express, sighup-replace) under `sdkit run`, started the way
 * their READMEs say, each checked with a real HTTP client.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { alive, httpGet, httpLoad, portOf, requireBuild, sdkitRun, sleep, until, type RunEvent } from "../fixtures/examples-kit.js";

before(requireBuild);
const NODE = process.execPath;
const is = (name: string, extra: (e: RunEvent) => boolean = () => true) => (e: RunEvent) => e.event === name && extra(e);

test("http-hello under sdkit run: serves on the socket it was given, READY with a status, replaced on SIGHUP without a failed request, stops cleanly", async (t) => {
  const r = sdkitRun(["-l", "127.0.0.1:0", "--fdname", "web"], [NODE, "examples/http-hello/server.js"], { PORT: "0" });
  t.after(() => r.stop());
  const port = portOf(await r.event(is("listening")));
  const ready = await r.event(is("ready"));
  assert.equal(ready.statusText, `serving http://127.0.0.1:${port}/`);
  assert.equal(await r.line(/serving/), `pid ${ready.mainPid} serving http://127.0.0.1:${port}/ (socket from the supervisor)`);
  assert.equal(await r.line(/^try:/), `try: curl http://127.0.0.1:${port}/`);
  assert.deepEqual(await httpGet(port), { status: 200, body: `hello from pid ${ready.mainPid}\n` });

  // SIGHUP to sdkit run: a second copy gets the same socket, then the first one drains and exits.
  const load = httpLoad(port);
  await until(() => (load.results.length >= 20 ? true : undefined), "requests flowing");
  const mark = r.events.length;
  r.child.kill("SIGHUP");
  const replaced = await r.event(is("replaced"), mark);
  assert.equal(replaced.oldPid, ready.mainPid);
  const oldExit = await r.event(is("exit", (e) => e.pid === ready.mainPid), mark);
  assert.deepEqual([oldExit.code, oldExit.result], [0, "replaced"]);
  await until(() => (load.results.some((x) => x.body === `hello from pid ${replaced.newPid}\n`) ? true : undefined), "an answer from the new copy");
  await load.stop();
  const failed = load.results.filter((x) => x.status !== 200);
  assert.deepEqual(failed, [], `${failed.length} of ${load.results.length} requests failed`);

  assert.equal(await r.stop(), 0);
  assert.ok(r.events.some(is("stopping", (e) => e.pid === replaced.newPid)), "the server said STOPPING=1 (onShutdown)");
  assert.ok(r.events.some(is("exit", (e) => e.pid === replaced.newPid && e.code === 0)), "and exited with 0");
});

test("express under sdkit run: the app answers on the passed socket, feeds the watchdog, and stops cleanly", async (t) => {
  const r = sdkitRun(["-l", "127.0.0.1:0", "--fdname", "web", "--watchdog-sec", "2s"], [NODE, "examples/express/server.js"], { PORT: "0" });
  t.after(() => r.stop());
  const port = portOf(await r.event(is("listening")));
  const ready = await r.event(is("ready"));
  assert.equal(ready.statusText, `serving on port ${port}`);
  const res = await httpGet(port);
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body), { hello: "express", pid: ready.mainPid });
  // Three watchdog periods: without its pings the app would have been killed (SIGABRT) by now.
  await sleep(6_000);
  assert.equal(r.events.filter(is("watchdog-timeout")).length, 0, "no watchdog timeout");
  const health = await httpGet(port, "/health");
  assert.deepEqual(JSON.parse(health.body), { ok: true, served: 2 }, "the same process still serves: it counted both requests");
  assert.equal(await r.stop(), 0);
  assert.ok(r.events.some(is("stopping", (e) => e.pid === ready.mainPid)));
});

test("sighup-replace under sdkit run: SIGHUP to the service replaces it through MAINPID=, twice, without a failed request", async (t) => {
  const r = sdkitRun(["-l", "127.0.0.1:0", "--fdname", "web"], [NODE, "examples/sighup-replace/server.js"], { PORT: "0" });
  t.after(() => r.stop());
  const port = portOf(await r.event(is("listening")));
  const ready = await r.event(is("ready"));
  let main = ready.mainPid as number;
  assert.match((await httpGet(port)).body, new RegExp(`^pid ${main}, started `));

  const load = httpLoad(port);
  await until(() => (load.results.length >= 20 ? true : undefined), "requests flowing");
  for (let generation = 2; generation <= 3; generation++) {
    const mark = r.events.length;
    process.kill(main, "SIGHUP"); // what `systemctl reload` does with ExecReload=kill -HUP $MAINPID
    const reloading = await r.event(is("reloading"), mark);
    assert.equal(reloading.pid, main, "RELOADING=1 while the successor starts");
    const handover = await r.event(is("mainpid"), mark);
    assert.equal(handover.oldPid, main);
    const next = handover.newPid as number;
    assert.notEqual(next, main);
    await r.event(is("reloaded"), mark); // READY=1 ended the reload
    await until(() => (alive(main) ? undefined : true), `the old process ${main} to exit`);
    await until(() => (load.results.some((x) => x.body.startsWith(`pid ${next},`)) ? true : undefined), `an answer from generation ${generation}`);
    main = next;
  }
  await load.stop();
  const failed = load.results.filter((x) => x.status !== 200);
  assert.deepEqual(failed, [], `${failed.length} of ${load.results.length} requests failed`);
  assert.equal(r.events.filter(is("exit")).length, 0, "sdkit run saw no service exit: the service lived on in its successors");
  assert.equal(r.events.filter(is("stopping")).length, 0, "a replaced process does not say STOPPING=1");

  assert.equal(await r.stop(), 0);
  assert.ok(r.events.some(is("stopping", (e) => e.pid === main)), "the last generation said STOPPING=1 when stopped");
});
