// `sdkit run` with a daemon built on sdkit itself (test/fixtures/cli-daemon.ts): a SIGHUP
// replacement under load drops no request; the daemon's own listener survives a crash through
// the FD store; a hung event loop is caught by the watchdog.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { fixture, TSX } from "../helpers/spawn.js";
import { startRun } from "../fixtures/cli-kit.js";

const DAEMON = [...TSX, fixture("cli-daemon.ts")];
type Ev = Record<string, unknown>;
const is = (name: string, extra: (e: Ev) => boolean = () => true) => (e: Ev) => e.event === name && extra(e);

function get(port: number, path = "/"): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let b = "";
      res.on("data", (d) => (b += d)).on("end", () => (res.statusCode === 200 ? resolve(b.trim()) : reject(new Error(`HTTP ${res.statusCode}`))));
    }).on("error", reject);
  });
}

/** Sends requests from `workers` loops until `stop` resolves; counts answers per pid and failures. */
async function load(port: number, workers: number, stop: Promise<unknown>) {
  let done = false;
  void stop.finally(() => (done = true));
  const served = new Map<string, number>();
  const failures: string[] = [];
  await Promise.all(Array.from({ length: workers }, async () => {
    while (!done) {
      try {
        const body = await get(port);
        served.set(body, (served.get(body) ?? 0) + 1);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  }));
  return { served, failures };
}

test("SIGHUP replaces the daemon with zero dropped requests", async (t) => {
  const r = startRun(["-l", "127.0.0.1:0", "--fdname", "web", "-E", "DAEMON_DELAY_MS=20", "--", ...DAEMON]);
  t.after(() => r.kill());
  const port = Number(String((await r.event(is("listening"))).address).split(":")[1]);
  const first = await r.event(is("ready"));
  let finishLoad!: () => void;
  const loading = load(port, 4, new Promise<void>((res) => (finishLoad = res)));
  await new Promise((res) => setTimeout(res, 500));
  r.child.kill("SIGHUP");
  const replaced = await r.event(is("replaced"));
  await r.event(is("exit", (e) => e.pid === first.mainPid));
  await new Promise((res) => setTimeout(res, 500));
  finishLoad();
  const { served, failures } = await loading;
  assert.deepEqual(failures, [], "no request failed during the replacement");
  assert.ok((served.get(`pid ${first.mainPid}`) ?? 0) > 0, "the old daemon served before");
  assert.ok((served.get(`pid ${replaced.newPid}`) ?? 0) > 0, "the new daemon served after");
  const line = await r.line((l) => l.pid === replaced.newPid);
  assert.equal(line.names, "web", "the new daemon inherited the listener by name");
  r.child.kill("SIGTERM");
  assert.equal((await r.done).code, 0);
});

test("the daemon's own listener survives a crash via the FD store; a hung loop trips the watchdog", async (t) => {
  const r = startRun(["--fdstore-max", "4", "--watchdog-sec", "2s", "--", ...DAEMON]);
  t.after(() => r.kill());
  const a = await r.line((l) => l.event === "ready");
  assert.equal(a.names, null, "first start: nothing passed, the daemon created its listener");
  assert.deepEqual((await r.event(is("fdstore"))).name, "web");
  await get(a.port as number, "/crash");
  const b = await r.line((l) => l.event === "ready" && l.pid !== a.pid);
  assert.equal(b.names, "web", "restarted with the stored listener");
  assert.equal(b.port, a.port, "same socket, same port");
  assert.equal(await get(b.port as number), `pid ${b.pid}`);
  await get(b.port as number, "/hang");
  const wd = await r.event(is("watchdog-timeout"));
  assert.equal(wd.pid, b.pid);
  const c = await r.line((l) => l.event === "ready" && l.pid !== a.pid && l.pid !== b.pid);
  assert.equal(c.port, a.port);
  assert.equal((await r.event(is("ready", (e) => e.mainPid === c.pid))).restarts, 2);
});
