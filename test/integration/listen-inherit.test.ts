// Real processes: a daemon that only calls listenTCP/listenUDP/listenUnixgram/listenFifo by name
// inherits all four kinds from LISTEN_FDS (fds at 3..), and creates them itself when started
// without activation; a port-0 listener is found again by a successor process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import dgram from "node:dgram";
import { openSync, writeFileSync, constants as fsc } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import * as sd from "../../src/index.js";
import { native } from "../../src/native/binding.js";
import { abstractName, jsonLines, portOf, rawTcpListener, rawUdp, rawUnix, roundTrip, scenario, tempDir } from "../fixtures/listen-util.js";
import { TSX, fixture, spawnWithFds } from "../helpers/spawn.js";

interface Line { pid: number; i?: number; ok?: boolean; kind?: string; port?: number; path?: string; code?: string; ready?: boolean; fifo?: string; replaced?: number; active?: { name: string; what: string }[] }

/** Reads the daemon's JSON lines; `next(pred)` resolves with the first (new or past) match. */
const lines = (child: ChildProcess) => jsonLines<Line>(child);

function plan(dir: string) {
  return JSON.stringify({ listeners: [
    { fn: "listenTCP", opts: { name: "web", host: "127.0.0.1", port: 0 } },
    { fn: "listenUDP", opts: { name: "dns", host: "127.0.0.1", port: 0 } },
    { fn: "listenUnixgram", opts: { name: "ctl", path: join(dir, "ctl.sock") } },
    { fn: "listenFifo", opts: { name: "fifo", path: join(dir, "in.fifo") } },
  ] });
}

async function exercise(out: ReturnType<typeof lines>, dir: string): Promise<Line[]> {
  const res = await Promise.all([0, 1, 2, 3].map((i) => out.next((l) => l.i === i, `result ${i}`)));
  for (const r of res) assert.equal(r.ok, true, JSON.stringify(r));
  const [tcp, udp] = res as [Line, Line];
  const c = net.connect(tcp.port!, "127.0.0.1");
  await once(c, "connect");
  assert.equal(await roundTrip(c, "tcp"), "tcp");
  c.destroy();
  const u = dgram.createSocket("udp4");
  u.send("udp", udp.port!, "127.0.0.1");
  assert.equal(String((await once(u, "message"))[0]), "udp");
  u.close();
  const g = new sd.UnixDatagramSocket().bind(abstractName("cli"));
  g.send("gram", join(dir, "ctl.sock"));
  assert.equal(String((await once(g, "message"))[0]), "gram");
  g.close();
  writeFileSync(join(dir, "in.fifo"), "via fifo");
  await out.next((l) => l.fifo === "via fifo", "the FIFO data");
  return res;
}

test("one daemon, names web/dns/ctl/fifo: inherits all four kinds, or creates all four itself", scenario(async () => {
  const t = tempDir("inh");
  try {
    const tcp = rawTcpListener("127.0.0.1");
    const udp = rawUdp("127.0.0.1");
    const ctl = rawUnix(join(t.dir, "ctl.sock"), "dgram");
    native().mkfifo(join(t.dir, "in.fifo"), 0o600);
    const fifo = openSync(join(t.dir, "in.fifo"), fsc.O_RDWR | fsc.O_NONBLOCK);
    const want = [portOf(tcp), portOf(udp)];
    const fds = [tcp, udp, ctl, fifo];
    const child = spawnWithFds([...TSX, fixture("listen-daemon.ts"), plan(t.dir)], { fds, names: ["web", "dns", "ctl", "fifo"] });
    for (const fd of fds) native().close(fd);
    const out = lines(child);
    try {
      const res = await exercise(out, t.dir);
      assert.deepEqual([res[0]!.port, res[1]!.port], want, "the inherited sockets, not new ones");
      const ready = await out.next((l) => l.ready === true);
      assert.deepEqual(ready.active!.map((a) => a.name), ["web", "dns", "ctl", "fifo"]);
    } finally { child.kill("SIGTERM"); await once(child, "exit"); }

    // Same daemon, no activation: it creates everything (the FIFO exists already; the socket
    // file left behind is stale and replaced under the default policy).
    const solo = spawnWithFds([...TSX, fixture("listen-daemon.ts"), plan(t.dir)]);
    const out2 = lines(solo);
    try {
      const res = await exercise(out2, t.dir);
      assert.ok(res[0]!.port! > 0 && res[1]!.port! > 0);
    } finally { solo.kill("SIGTERM"); await once(solo, "exit"); }
  } finally { t.done(); }
}));

test("a name given to the wrong kind by the activator fails with ERR_SD_WRONG_KIND", scenario(async () => {
  const udp = rawUdp("127.0.0.1");
  const child = spawnWithFds([...TSX, fixture("listen-daemon.ts"), JSON.stringify({ listeners: [{ fn: "listenTCP", opts: { name: "web" } }] })], { fds: [udp], names: ["web"] });
  native().close(udp);
  const out = lines(child);
  try {
    const r = await out.next((l) => l.i === 0);
    assert.equal(r.code, "ERR_SD_WRONG_KIND");
    assert.match(JSON.stringify(r), /UDP socket on 127\.0\.0\.1:\d+/);
  } finally { child.kill("SIGTERM"); await once(child, "exit"); }
}));

/** Waits until a process (not our child) is gone. */
async function gone(pid: number): Promise<void> {
  for (;;) {
    try { process.kill(pid, 0); } catch { return; }
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("port 0: a successor started with the handover fds finds the same socket by host", scenario(async () => {
  const t = tempDir("inh");
  try {
    const path = join(t.dir, "api.sock");
    const p = JSON.stringify({ listeners: [
      { fn: "listenTCP", opts: { host: "127.0.0.1", port: 0 } },
      { fn: "listenUnix", opts: { path } },
    ] });
    const first = spawnWithFds([...TSX, fixture("listen-daemon.ts"), p]);
    const out = lines(first);
    const pid1 = first.pid!;
    const [tcp1, unix1] = await Promise.all([0, 1].map((i) => out.next((l) => l.pid === pid1 && l.i === i)));
    await out.next((l) => l.pid === pid1 && l.ready === true);
    assert.ok(tcp1!.ok && tcp1!.port! > 0 && unix1!.ok);
    first.kill("SIGUSR2");
    const pid2 = (await out.next((l) => l.replaced !== undefined, "the replacement")).replaced!;
    const [tcp2, unix2] = await Promise.all([0, 1].map((i) => out.next((l) => l.pid === pid2 && l.i === i, `successor result ${i}`)));
    assert.equal(tcp2!.ok, true, JSON.stringify(tcp2));
    assert.equal(tcp2!.port, tcp1!.port, "same port, found by host although port 0 was asked for");
    assert.equal(unix2!.ok, true, JSON.stringify(unix2));
    assert.equal((unix2 as Line & { fileIno: number }).fileIno, (unix1 as Line & { fileIno: number }).fileIno, "same socket file, not recreated");
    first.kill("SIGTERM");
    await once(first, "exit");
    const c = net.connect(tcp1!.port!, "127.0.0.1");
    await once(c, "connect");
    assert.equal(await roundTrip(c, "successor"), "successor");
    c.destroy();
    process.kill(pid2, "SIGTERM");
    await gone(pid2);
  } finally { t.done(); }
}));
