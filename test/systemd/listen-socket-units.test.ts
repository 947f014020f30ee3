/**
 * Acceptance for the listeners under a real systemd 252 user manager: four Accept=no socket
 * units named web (TCP), dns (UDP), ctl (Unix datagram) and fifo (FIFO) trigger one service, a
 * daemon that only calls listenTCP/listenUDP/listenUnixgram/listenFifo with those names (and a
 * fallback address). It must serve all four on systemd's sockets; started without activation,
 * the same daemon creates all four itself.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import dgram from "node:dgram";
import net from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as sd from "../../src/index.js";
import { TSX, ROOT, fixture, spawnWithFds } from "../helpers/spawn.js";
import { freePort, freeUdpPort } from "../harness/socket-activate.js";
import { useUserManager } from "../harness/user-manager.js";
import { abstractName, roundTrip } from "../fixtures/listen-util.js";

const manager = useUserManager({ version: 252 });
const dir = mkdtempSync(join(tmpdir(), "sdkit-ls-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Line { pid: number; i?: number; ok?: boolean; port?: number; path?: string; code?: string; message?: string; ready?: boolean; fifo?: string; active?: { name: string; what: string }[] }

/** Polls `read()` (JSON lines) until one matches. */
async function lineMatching(read: () => string, pred: (l: Line) => boolean, what: string): Promise<Line> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const text = read();
    const hit = text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Line).find(pred);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no ${what} in: ${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Talks to all four: TCP echo, UDP echo, Unix datagram echo, and a FIFO write the daemon logs. */
async function exercise(read: () => string, tcp: number, udp: number, ctl: string, fifo: string, tag: string): Promise<void> {
  const c = net.connect(tcp, "127.0.0.1");
  await once(c, "connect");
  assert.equal(await roundTrip(c, `tcp ${tag}`), `tcp ${tag}`);
  c.destroy();
  const u = dgram.createSocket("udp4");
  u.send(`udp ${tag}`, udp, "127.0.0.1");
  assert.equal(String((await once(u, "message"))[0]), `udp ${tag}`);
  u.close();
  const g = new sd.UnixDatagramSocket().bind(abstractName("ls"));
  g.send(`ctl ${tag}`, ctl);
  assert.equal(String((await once(g, "message"))[0]), `ctl ${tag}`);
  g.close();
  writeFileSync(fifo, `fifo ${tag}`);
  await lineMatching(read, (l) => l.fifo === `fifo ${tag}`, "FIFO data");
}

test("socket units web/dns/ctl/fifo (Accept=no): the daemon serves all four; without activation it creates them", async () => {
  const m = manager();
  const tcp = await freePort();
  const udp = await freeUdpPort();
  const ctl = join(dir, "ctl.sock"), fifo = join(dir, "in.fifo"), out = join(dir, "daemon.jsonl"), planFile = join(dir, "plan.json");
  writeFileSync(planFile, JSON.stringify({ listeners: [
    { fn: "listenTCP", opts: { name: "web", host: "127.0.0.1", port: tcp } },
    { fn: "listenUDP", opts: { name: "dns", host: "127.0.0.1", port: udp } },
    { fn: "listenUnixgram", opts: { name: "ctl", path: ctl } },
    { fn: "listenFifo", opts: { name: "fifo", path: fifo } },
  ] }));
  await m.writeUnit("t-lsd.service", [
    "[Unit]", "StartLimitIntervalSec=0",
    "[Service]", "Type=simple", `WorkingDirectory=${ROOT}`,
    `ExecStart=${process.execPath} --import tsx ${fixture("listen-daemon.ts")} ${planFile}`,
    `StandardOutput=append:${out}`, `StandardError=append:${out}.err`, "",
  ].join("\n"));
  const units: [string, string, string][] = [["t-web.socket", `ListenStream=127.0.0.1:${tcp}`, "web"], ["t-dns.socket", `ListenDatagram=127.0.0.1:${udp}`, "dns"],
    ["t-ctl.socket", `ListenDatagram=${ctl}`, "ctl"], ["t-fifo.socket", `ListenFIFO=${fifo}`, "fifo"]];
  for (const [unit, listen, name] of units) {
    await m.writeUnit(unit, ["[Unit]", "StartLimitIntervalSec=0", "[Socket]", "Accept=no", listen, `FileDescriptorName=${name}`, "Service=t-lsd.service", ""].join("\n"));
  }
  const r = await m.systemctl("start", ...units.map((u) => u[0]));
  assert.equal(r.code, 0, r.stderr);
  for (const [unit] of units) await m.waitFor(unit, "SubState", "listening");

  const read = () => { try { return readFileSync(out, "utf8"); } catch { return ""; } };
  const readErr = () => { try { return readFileSync(`${out}.err`, "utf8"); } catch { return ""; } };
  // The first TCP connection triggers the service; it is served once the daemon adopted the socket.
  await exercise(read, tcp, udp, ctl, fifo, "activated").catch((e) => { throw new Error(`${(e as Error).message}\nstderr: ${readErr()}`); });
  await m.waitFor("t-lsd.service", "SubState", "running");
  const { MainPID } = await m.show("t-lsd.service", ["MainPID"]);
  const results = await Promise.all([0, 1, 2, 3].map((i) => lineMatching(read, (l) => l.i === i, `result ${i}`)));
  for (const res of results) assert.equal(res.ok, true, JSON.stringify(res));
  assert.ok(results.every((res) => res.pid === Number(MainPID)), "the service's main process made them");
  const ready = await lineMatching(read, (l) => l.ready === true, "ready");
  assert.deepEqual(ready.active!.map((a) => `${a.name}: ${a.what}`), [
    `web: a TCP listener on 127.0.0.1:${tcp}`,
    `dns: a UDP socket on 127.0.0.1:${udp}`,
    `ctl: a Unix datagram socket at ${ctl}`,
    "fifo: a FIFO",
  ], "systemd's sockets, exported under their names");
  assert.equal((await m.systemctl("stop", "t-lsd.service", ...units.map((u) => u[0]))).code, 0);

  // Without activation: the same plan, run directly; it creates all four (the stale socket
  // file systemd left is replaced under the default policy; the FIFO is reused).
  const solo = spawnWithFds([...TSX, fixture("listen-daemon.ts"), planFile]);
  let soloOut = "";
  solo.stdout!.on("data", (d) => (soloOut += d));
  try {
    const readSolo = () => soloOut;
    const created = await Promise.all([0, 1, 2, 3].map((i) => lineMatching(readSolo, (l) => l.i === i, `solo result ${i}`)));
    for (const res of created) assert.equal(res.ok, true, JSON.stringify(res));
    await exercise(readSolo, tcp, udp, ctl, fifo, "standalone");
  } finally {
    solo.kill("SIGTERM");
    await once(solo, "exit");
  }
});
