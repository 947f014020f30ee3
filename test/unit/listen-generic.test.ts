import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import dgram from "node:dgram";
import { join } from "node:path";
import * as sd from "../../src/index.js";
import { isTCPListener, isUnixListener } from "../../src/filetest/address.js";
import { closeServer, connectUnix, echo, inherit, portOf, rawTcpListener, rawUdp, rawUnix, rejectsWith, roundTrip, scenario, tempDir } from "../fixtures/listen-util.js";

test("parseHostPort: host:port, [v6]:port, :port, port, empty; junk is rejected", () => {
  assert.deepEqual(sd.parseHostPort("127.0.0.1:80", "t"), { host: "127.0.0.1", port: 80 });
  assert.deepEqual(sd.parseHostPort("[::1]:8080", "t"), { host: "::1", port: 8080 });
  assert.deepEqual(sd.parseHostPort("localhost:0", "t"), { host: "localhost", port: 0 });
  assert.deepEqual(sd.parseHostPort(":53", "t"), { port: 53 });
  assert.deepEqual(sd.parseHostPort("53", "t"), { port: 53 });
  assert.deepEqual(sd.parseHostPort("", "t"), { port: 0 });
  for (const bad of ["::1:80", "host", "host:", "1.2.3.4:99999", "[::1]", "a:b:c", "h:-1"]) {
    assert.throws(() => sd.parseHostPort(bad, "t"), { code: "ERR_SD_INVALID_ARG" }, bad);
  }
});

test("listen() dispatches tcp/tcp4/tcp6/unix; unknown networks are rejected", scenario(async () => {
  const t = tempDir("gen");
  try {
    const a = await sd.listen("tcp4", "127.0.0.1:0");
    assert.equal((a.address() as net.AddressInfo).family, "IPv4");
    const b = await sd.listen("tcp6", ":0");
    assert.equal((b.address() as net.AddressInfo).address, "::");
    await rejectsWith(sd.listen("tcp6", "127.0.0.1:0"), "ERR_SD_INVALID_ARG", "IPv4");
    const path = join(t.dir, "g.sock");
    const u = echo(await sd.listen("unix", path, { mode: 0o600, name: "ctl" }));
    const c = await connectUnix(path);
    assert.equal(await roundTrip(c, "u"), "u");
    c.destroy();
    await rejectsWith(sd.listen("sctp" as sd.StreamNetwork, ":0"), "ERR_SD_INVALID_ARG", "sctp");
    assert.deepEqual(sd.activeFds().map((x) => x.name), ["tcp", "tcp", "ctl"]);
    for (const s of [a, b, u]) await closeServer(s);
  } finally { t.done(); }
}));

test("listenPacket() dispatches udp/udp4/udp6 to dgram.Socket", scenario(async () => {
  const a = await sd.listenPacket("udp4", "127.0.0.1:0");
  assert.ok(a instanceof dgram.Socket);
  assert.equal(a.address().family, "IPv4");
  const b = await sd.listenPacket("udp6", "[::1]:0", { name: "dns" });
  assert.equal(b.address().address, "::1");
  await rejectsWith(sd.listenPacket("ip" as sd.PacketNetwork, ":0"), "ERR_SD_INVALID_ARG", "ip");
  a.close();
  b.close();
}));

test("inheritNamedListener / inheritNamedPacketConn: by name and tests, never create, wrong kind is an error", scenario(async () => {
  const t = tempDir("gen");
  try {
    const tcp = rawTcpListener("127.0.0.1");
    const port = portOf(tcp);
    const upath = join(t.dir, "i.sock");
    const udp = rawUdp("127.0.0.1");
    const udpPort = portOf(udp);
    inherit([{ name: "web", fd: tcp }, { name: "ctl", fd: rawUnix(upath, "stream") }, { name: "dns", fd: udp }]);
    assert.equal(sd.inheritNamedListener("nope"), undefined, "nothing by that name: undefined, nothing created");
    assert.throws(() => sd.inheritNamedListener("web", isTCPListener({ port: port === 65535 ? 1 : port + 1 })), { code: "ERR_SD_WRONG_KIND" });
    assert.throws(() => sd.inheritNamedListener("dns"), (e: sd.SdError) => e.code === "ERR_SD_WRONG_KIND" && e.message.includes("UDP socket"));
    assert.throws(() => sd.inheritNamedPacketConn("web"), (e: sd.SdError) => e.code === "ERR_SD_WRONG_KIND" && e.message.includes("TCP listener"));

    const web = sd.inheritNamedListener("web", isTCPListener({ host: "127.0.0.1", port }));
    assert.ok(web && web.name === "web" && web.server.listening);
    echo(web.server);
    const any = sd.inheritNamedListener("", isUnixListener(upath));
    assert.ok(any && any.name === "ctl");
    echo(any.server);
    const dns = sd.inheritNamedPacketConn("dns");
    assert.ok(dns && dns.socket instanceof dgram.Socket && dns.name === "dns");
    assert.equal((dns.socket as dgram.Socket).address().port, udpPort);
    assert.equal(sd.inheritNamedListener("web"), undefined, "each fd is taken once");

    const c1 = net.connect(port, "127.0.0.1");
    assert.equal(await roundTrip(c1, "tcp"), "tcp");
    const c2 = await connectUnix(upath);
    assert.equal(await roundTrip(c2, "unix"), "unix");
    c1.destroy(); c2.destroy();
    assert.deepEqual(sd.activeFds().map((x) => x.name), ["web", "ctl", "dns"]);
    await closeServer(web.server);
    await closeServer(any.server);
    (dns.socket as dgram.Socket).close();
  } finally { t.done(); }
}));

test("name '' means no name: matched by address, exported under the default name", scenario(async () => {
  const s = await sd.listenTCP({ name: "", host: "127.0.0.1" });
  assert.deepEqual(sd.activeFds().map((a) => a.name), ["tcp"]);
  await rejectsWith(sd.listenFifo({ name: "" }), "ERR_SD_NO_SUCH_FD_NAME", "name", "path");
  await closeServer(s);
}));
