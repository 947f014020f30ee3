/**
 * The restart examples under `sdkit run`: fdstore-restart (clients stay connected while the
 * service restarts through the FD store) and workers (n processes on one socket, rolling
 * replacement on SIGHUP without a failed request).
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { LineClient, alive, httpGet, httpLoad, requireBuild, sdkitRun, until, type RunEvent } from "../fixtures/examples-kit.js";

before(requireBuild);
const NODE = process.execPath;
const is = (name: string, extra: (e: RunEvent) => boolean = () => true) => (e: RunEvent) => e.event === name && extra(e);

test("fdstore-restart under sdkit run: two clients keep their TCP connections across two restarts", async (t) => {
  const r = sdkitRun(["--fdstore-max", "64", "--restart", "always"], [NODE, "examples/fdstore-restart/server.js"], { PORT: "0" });
  t.after(() => r.stop());
  const first = await r.event(is("ready"));
  const pid1 = first.mainPid as number;
  const port = Number(/tcp 127\.0\.0\.1:(\d+), 0 connection\(s\) resumed$/.exec(await r.line(/serving tcp/))![1]);
  await r.event(is("fdstore", (e) => e.name === "web" && e.stored === 1)); // the listener is stored at start

  const a = await LineClient.connect(port), b = await LineClient.connect(port);
  t.after(() => { a.close(); b.close(); });
  for (const c of [a, b]) assert.equal(await c.line(/^hello/), `hello from pid ${pid1}`);
  assert.equal(await a.ask("one"), `${pid1}: one`);
  assert.equal(await b.ask("uno"), `${pid1}: uno`);

  let pid = pid1;
  for (let i = 2; i <= 3; i++) {
    const mark = r.events.length, aFrom = a.lines.length, bFrom = b.lines.length;
    process.kill(pid, "SIGTERM"); // what `systemctl restart` sends; --restart always brings it back
    const stored = await r.event(is("fdstore", (e) => e.name === "conn"), mark);
    assert.equal(stored.stored, 2, "both connections went to the store");
    const exit = await r.event(is("exit", (e) => e.pid === pid), mark);
    assert.equal(exit.code, 0);
    const next = await r.event(is("ready", (e) => e.mainPid !== pid), mark);
    assert.equal(next.statusText, `serving port ${port}, 2 connection(s) resumed`);
    const removed = await r.event(is("fdstore-remove", (e) => e.name === "conn"), mark);
    assert.equal(removed.removed, 2, "the new instance dropped the store's copies of the connections");
    pid = next.mainPid as number;
    assert.equal(await a.line(/^resumed/, aFrom), `resumed by pid ${pid}`);
    assert.equal(await b.line(/^resumed/, bFrom), `resumed by pid ${pid}`);
    assert.equal(await a.ask(`a${i}`), `${pid}: a${i}`);
    assert.equal(await b.ask(`b${i}`), `${pid}: b${i}`);
  }
  assert.equal(a.closed || b.closed, false, "neither connection was ever closed");

  // A new client is served by the same listener; a client that leaves is gone for good.
  const c = await LineClient.connect(port);
  assert.equal(await c.line(/^hello/), `hello from pid ${pid}`);
  c.close();
  b.close();
  assert.equal(await a.ask("still here"), `${pid}: still here`);
  assert.equal(await r.stop(), 0);
});

test("workers under sdkit run: two workers answer on one socket; SIGHUP replaces them one by one without a failed request", async (t) => {
  const r = sdkitRun(["-l", "127.0.0.1:0", "--fdname", "web"], [NODE, "examples/workers/server.js"], { PORT: "0", WORKERS: "2" });
  t.after(() => r.stop());
  const ready = await r.event(is("ready"));
  const primary = ready.mainPid as number;
  const pidsOf = (s: string) => s.split(", ").map(Number);
  const workers1 = pidsOf(/^2 workers: (.*)$/.exec(String(ready.statusText))![1]!);
  assert.equal(workers1.length, 2);
  const listening = r.events.find(is("listening"))!;
  const port = Number(String(listening.address).split(":").at(-1));

  const served = async () => {
    const res = await httpGet(port);
    const m = /^worker ([12]), pid (\d+)\n$/.exec(res.body);
    assert.ok(m, `unexpected answer ${JSON.stringify(res)}`);
    return Number(m[2]);
  };
  for (let i = 0; i < 10; i++) assert.ok(workers1.includes(await served()), "a worker answered, never the primary");

  const load = httpLoad(port);
  await until(() => (load.results.length >= 20 ? true : undefined), "requests flowing");
  const mark = r.events.length;
  process.kill(primary, "SIGHUP"); // what `systemctl reload` does with ExecReload=kill -HUP $MAINPID
  const reloaded = await r.event(is("reloaded"), mark, 120_000);
  const workers2 = pidsOf(/^2 workers: (.*)$/.exec(String(reloaded.statusText))![1]!);
  assert.equal(workers2.filter((p) => workers1.includes(p)).length, 0, `all workers are new: ${workers1} -> ${workers2}`);
  await until(() => (workers1.some(alive) ? undefined : true), "the old workers to exit");
  await until(() => (load.results.some((x) => workers2.some((p) => x.body.endsWith(`pid ${p}\n`))) ? true : undefined), "an answer from a new worker");
  await load.stop();
  const failed = load.results.filter((x) => x.status !== 200);
  assert.deepEqual(failed, [], `${failed.length} of ${load.results.length} requests failed`);
  assert.equal(r.events.filter(is("exit")).length, 0, "the primary never exited");

  assert.equal(await r.stop(), 0);
  await until(() => (workers2.some(alive) ? undefined : true), "the workers to be stopped with the primary");
});
