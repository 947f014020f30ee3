import { test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { once } from "node:events";
import * as sd from "../../src/index.js";
import { K, native } from "../../src/native/binding.js";
import { inspectFd } from "../../src/filetest/inspect.js";
import { inherit, portOf, rawTcpListener, rawUdp, rejectsWith, scenario } from "../fixtures/listen-util.js";

const exported = (name: string) => sd.activeFds().find((a) => a.name === name)?.fd;

/** Sends `text` to the socket and waits for the echo. */
async function echoTrip(server: dgram.Socket, host: string, text: string): Promise<string> {
  server.on("message", (m, r) => server.send(m, r.port, r.address));
  const client = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  try {
    client.send(text, server.address().port, host);
    const [m] = await once(client, "message");
    return String(m);
  } finally {
    client.close();
  }
}

const close = (s: dgram.Socket) => new Promise<void>((r) => s.close(() => r()));

test("creates udp4 and udp6 sockets that work; exported under 'udp' by default", scenario(async () => {
  const v4 = await sd.listenUDP({ host: "127.0.0.1", port: 0 });
  assert.equal(v4.address().family, "IPv4");
  assert.equal(await echoTrip(v4, "127.0.0.1", "four"), "four");
  const v6 = await sd.listenUDP({ host: "::1", port: 0, name: "dns6" });
  assert.equal(v6.address().family, "IPv6");
  assert.equal(await echoTrip(v6, "::1", "six"), "six");
  assert.deepEqual(sd.activeFds().map((a) => a.name), ["udp", "dns6"]);
  assert.equal(inspectFd(exported("dns6")!).port, v6.address().port);
  await close(v4);
  await close(v6);
}));

test("exportFd on a plain dgram.Socket finds its fd without touching the deprecated _handle (DEP0112)", scenario(async () => {
  const sock = dgram.createSocket("udp4");
  sock.bind(0, "127.0.0.1");
  await once(sock, "listening");
  let touched = false;
  // An own getter shadows dgram's deprecated prototype accessor, so any read is seen here.
  Object.defineProperty(sock, "_handle", { get() { touched = true; return undefined; } });
  const dup = sd.exportFd("plain-udp", sock);
  assert.equal(touched, false, "sdkit read dgram.Socket#_handle");
  assert.equal(inspectFd(dup).port, sock.address().port, "the exported dup is this socket");
  sd.forget("plain-udp");
  await close(sock);
}));

test("wildcard: dual-stack by default, udp4 gives 0.0.0.0, ipv6Only sets IPV6_V6ONLY", scenario(async () => {
  const dual = await sd.listenUDP({ port: 0, name: "dual" });
  assert.equal(dual.address().address, "::");
  assert.equal(await echoTrip(dual, "127.0.0.1", "via v4"), "via v4");
  const v4 = await sd.listenUDP({ port: 0, type: "udp4" });
  assert.equal(v4.address().address, "0.0.0.0");
  const only6 = await sd.listenUDP({ port: 0, type: "udp6", ipv6Only: true, name: "only6" });
  assert.equal(native().getsockopt(exported("only6")!, K().IPPROTO_IPV6!, K().IPV6_V6ONLY!), 1);
  assert.equal(native().getsockopt(exported("dual")!, K().IPPROTO_IPV6!, K().IPV6_V6ONLY!), 0);
  for (const s of [dual, v4, only6]) await close(s);
}));

test("reusePort lets two sockets bind one UDP port", scenario(async () => {
  const a = await sd.listenUDP({ host: "127.0.0.1", reusePort: true });
  const b = await sd.listenUDP({ host: "127.0.0.1", port: a.address().port, reusePort: true });
  assert.equal(a.address().port, b.address().port);
  await rejectsWith(sd.listenUDP({ host: "127.0.0.1", port: a.address().port }), "ERR_SD_ADDRESS_IN_USE", `127.0.0.1:${a.address().port}`);
  await close(a);
  await close(b);
}));

test("named UDP inherits (the seed's NamedListenUDP is a stub; this works)", scenario(async () => {
  const raw = rawUdp("127.0.0.1");
  const port = portOf(raw);
  const ino = inspectFd(raw).ino;
  inherit([{ name: "dns", fd: raw }]);
  // A different port on the named fd is an error, not a silently created second socket.
  await rejectsWith(sd.listenUDP({ name: "dns", port: port === 65535 ? 1 : port + 1 }), "ERR_SD_WRONG_KIND", `UDP socket on 127.0.0.1:${port}`);
  const got = await sd.listenUDP({ name: "dns" });
  assert.equal(got.address().port, port);
  assert.equal(inspectFd(exported("dns")!).ino, ino);
  assert.equal(await echoTrip(got, "127.0.0.1", "inherited"), "inherited");
  await close(got);
}));

test("wrong kind: a TCP listener named like the UDP socket", scenario(async () => {
  const raw = rawTcpListener("127.0.0.1");
  inherit([{ name: "dns", fd: raw }]);
  await rejectsWith(sd.listenUDP({ name: "dns" }), "ERR_SD_WRONG_KIND", '"dns"', "TCP listener", "UDP socket");
  await rejectsWith(sd.listenUDP({ name: "dns", type: "udp6" }), "ERR_SD_WRONG_KIND", "IPv6");
}));

test("port 0 on an inherited IPv6 UDP socket is found again by host; type filters family", scenario(async () => {
  const v6 = rawUdp("::1");
  const port = portOf(v6);
  inherit([{ name: "x", fd: v6 }]);
  await rejectsWith(sd.listenUDP({ host: "::1", port, type: "udp4" }), "ERR_SD_INVALID_ARG", "IPv6");
  const s4 = await sd.listenUDP({ type: "udp4", port: 0 }); // does not take the v6 one
  assert.equal(s4.address().family, "IPv4");
  const s = await sd.listenUDP({ host: "::1" });
  assert.equal(s.address().port, port);
  await close(s4);
  await close(s);
}));
