// The FD store under a real systemd 252 user manager: the service stores its listening socket
// by name (notify(..., { fds: true })); after `systemctl restart` and after `kill -9` the new
// process re-adopts the same socket by name; and a client hammering the port through 20
// restarts never sees a refused connection or a failed request.
import { test } from "node:test";
import assert from "node:assert/strict";
import { get } from "node:http";
import { useUserManager, type UserManager } from "../harness/user-manager.js";
import { serviceLog, serviceUnit } from "../fixtures/notify-units.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";

const manager = useUserManager();
const UNIT = "n-store.service";

interface Listening { pid: number; adopted: boolean; port: number; ino: number; fdnames: string | null }
const starts = (m: UserManager) => serviceLog(m, "n-store").filter((l) => l.event === "listening") as unknown as Listening[];
const mainPid = async (m: UserManager) => Number((await m.show(UNIT, ["MainPID"])).MainPID);

/** One GET on a fresh connection; resolves with the serving pid or the error code. */
function request(port: number): Promise<{ pid?: number; error?: string }> {
  return new Promise((resolve) => {
    const req = get({ host: "127.0.0.1", port, path: "/", agent: false, timeout: 60_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve(res.statusCode === 200 && /^\d+\n$/.test(body) ? { pid: Number(body) } : { error: `HTTP ${res.statusCode} ${JSON.stringify(body)}` }));
      res.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
  });
}

test("the FD store keeps the listener across restart and kill -9; 20 restarts under load lose nothing", { timeout: 280_000 }, () => assertNoFdLeak(async () => {
  const m = manager();
  await m.writeUnit(UNIT, serviceUnit(m, "n-store", "fdstore", ["FileDescriptorStoreMax=4", "Restart=always", "RestartSec=100ms"], ["0"]));
  assert.equal((await m.systemctl("start", UNIT)).code, 0, JSON.stringify(serviceLog(m, "n-store")));
  const [first] = starts(m);
  assert.ok(first && !first.adopted && first.port > 0, JSON.stringify(serviceLog(m, "n-store")));
  assert.equal((await m.show(UNIT, ["NFileDescriptorStore"])).NFileDescriptorStore, "1");
  const same = (s: Listening) => [s.adopted, s.port, s.ino, s.fdnames];
  const expected = [true, first.port, first.ino, "web"];

  // systemctl restart: the stored socket comes back as LISTEN_FDNAMES=web.
  assert.equal((await m.systemctl("restart", UNIT)).code, 0);
  const afterRestart = starts(m).at(-1)!;
  assert.equal(afterRestart.pid, await mainPid(m));
  assert.notEqual(afterRestart.pid, first.pid);
  assert.deepEqual(same(afterRestart), expected);

  // kill -9: Restart=always brings it back with the same socket.
  process.kill(afterRestart.pid, "SIGKILL");
  await m.waitFor(UNIT, "NRestarts", "1", 60_000);
  await m.waitFor(UNIT, "ActiveState", "active", 60_000);
  const afterKill = starts(m).at(-1)!;
  assert.notEqual(afterKill.pid, afterRestart.pid);
  assert.equal(afterKill.pid, await mainPid(m));
  assert.deepEqual(same(afterKill), expected);

  // 20 restarts while 4 clients hammer the port, one connection per request.
  let running = true;
  const results: { pid?: number; error?: string }[] = [];
  const client = async () => { while (running) results.push(await request(first.port)); };
  const clients = Array.from({ length: 4 }, client);
  while (results.length < 20) await new Promise((r) => setTimeout(r, 10)); // load is flowing
  for (let i = 0; i < 20; i++) {
    const r = await m.systemctl("restart", UNIT);
    assert.equal(r.code, 0, r.stderr);
  }
  const beforeStop = results.length;
  while (results.length < beforeStop + 20) await new Promise((r) => setTimeout(r, 10)); // and after the last restart
  running = false;
  await Promise.all(clients);

  const failures = results.filter((r) => r.error !== undefined).map((r) => r.error);
  assert.deepEqual(failures, [], `${failures.length} of ${results.length} requests failed`);
  const servers = new Set(results.map((r) => r.pid));
  assert.ok(servers.size >= 10, `requests were served by ${servers.size} processes across 20 restarts`);
  const all = starts(m);
  assert.equal(all.length, 23);
  for (const s of all.slice(1)) assert.deepEqual(same(s), expected, `pid ${s.pid} re-adopted the stored listener`);
  assert.equal((await m.show(UNIT, ["NFileDescriptorStore"])).NFileDescriptorStore, "1", "re-storing the same socket does not duplicate it");
  await m.systemctl("stop", UNIT);
}));
