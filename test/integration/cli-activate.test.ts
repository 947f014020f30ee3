// `sdkit activate` against the real `systemd-socket-activate`: same listeners → same view for
// the program (fds, kinds, flags, LISTEN_*, environment), same pid semantics, same exit codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import net from "node:net";
import { fixture, ROOT, TSX } from "../helpers/spawn.js";
import { SDKIT, finish, freePort, runActivator, stderrLines, tempDir, uniqueAbstract } from "../fixtures/cli-kit.js";

const SHOWFDS = fixture("cli-showfds.py");

type View = { pid: number; view: Record<string, unknown> };
const parse = (stdout: string): View => JSON.parse(stdout.trim().split("\n").at(-1)!) as View;
const listening = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("Listening on")).sort();

/** Runs the same activator arguments under both tools and returns both results. */
async function both(args: string[], listeners: number, program: string[], type?: "datagram" | "seqpacket") {
  const pokeAt = args[args.indexOf("-l") + 1]!;
  const opts = { listeners, pokeAt, ...(type ? { type } : {}), env: { FOO: "from-activator", BAR: "copied" } };
  const real = await runActivator(["systemd-socket-activate", ...args, ...program], opts);
  const ours = await runActivator([...SDKIT, "activate", ...args, ...program], opts);
  return { real, ours };
}

test("same listeners give the program the same view as under systemd-socket-activate", async () => {
  const dir = tempDir("act");
  const [p1, p2, p3] = await Promise.all([freePort(), freePort(), freePort("::1")]);
  const cases: { args: string[]; n: number; type?: "datagram" | "seqpacket" }[] = [
    { args: ["-l", `127.0.0.1:${p1}`, "-l", join(dir, "s.sock"), "-l", uniqueAbstract("a"), "--fdname=a:b:c", "-E", "FOO=bar", "-E", "BAR", "-E", "UNSET_HERE"], n: 3 },
    { args: ["-d", "-l", `127.0.0.1:${p2}`, "-l", join(dir, "d.sock")], n: 2, type: "datagram" },
    { args: ["--seqpacket", "-l", uniqueAbstract("q")], n: 1, type: "seqpacket" },
    { args: ["-l", String(p3), "-l", join(dir, "m.sock"), "--fdname=x:y:z"], n: 2 }, // bare port; 3 names for 2 fds
    { args: ["--fdname=one", "-l", `127.0.0.1:${p1}`, "-l", uniqueAbstract("o")], n: 2 }, // one name for all
  ];
  for (const c of cases) {
    const { real, ours } = await both(c.args, c.n, [SHOWFDS, "arg 1"], c.type);
    const label = c.args.join(" ");
    assert.equal(real.code, 0, `${label}: ${real.stderr}`);
    assert.equal(ours.code, 0, `${label}: ${ours.stderr}`);
    const r = parse(real.stdout), o = parse(ours.stdout);
    assert.deepEqual(o.view, r.view, label);
    assert.equal(o.view.listenPidIsOwn, true);
    // Exec in place: the program runs as the activator's own process.
    assert.equal(r.pid, real.pid, `${label}: systemd-socket-activate execs in place`);
    assert.equal(o.pid, ours.pid, `${label}: sdkit activate execs in place`);
    assert.deepEqual(listening(ours.stderr), listening(real.stderr), label);
    const warn = /The number of fd names is different than number of fds: 3 vs 2/;
    assert.equal(warn.test(ours.stderr), warn.test(real.stderr), label);
  }
});

test("the library's own view (show-activation) is identical under both activators", async () => {
  const dir = tempDir("lib");
  const port = await freePort();
  const args = ["-l", `127.0.0.1:${port}`, "-l", join(dir, "u.sock"), "--fdname=web:ctl"];
  const { real, ours } = await both(args, 2, [...TSX, fixture("show-activation.ts")]);
  assert.equal(ours.code, 0, ours.stderr);
  const strip = (s: string) => { const v = JSON.parse(s.trim()) as Record<string, unknown>; delete v.pid; return v; };
  assert.deepEqual(strip(ours.stdout), strip(real.stdout));
  assert.deepEqual((strip(ours.stdout) as { names: string[] }).names, ["web", "ctl"]);
});

test("mixed kinds in one run, per-listener names, --now", async () => {
  const dir = tempDir("mix");
  const listen = ["127.0.0.1:0", "[::1]:0", "udp:127.0.0.1:0", join(dir, "m.sock"), `dgram:${join(dir, "md.sock")}`, uniqueAbstract("m"), `seqpacket:${uniqueAbstract("s")}`, `fifo:${join(dir, "f.fifo")}`];
  const r = await runActivator([...SDKIT, "activate", "--now", ...listen.flatMap((l) => ["-l", l]),
    "--fdname", "web", "--fdname", "web6", "--fdname", "dns:ctl:log:abs:seq:pipe", SHOWFDS], { listeners: listen.length });
  assert.equal(r.code, 0, r.stderr);
  const { pid, view } = parse(r.stdout);
  assert.equal(pid, r.pid);
  assert.equal(view.listenPidIsOwn, true);
  assert.deepEqual(view.vars, { LISTEN_FDS: "8", LISTEN_FDNAMES: "web:web6:dns:ctl:log:abs:seq:pipe", FOO: null, BAR: null, REMOTE_ADDR: null, REMOTE_PORT: null });
  const fds = view.fds as { family?: string; type?: string; listening?: number; mode: string; cloexec: boolean; nonblock: boolean }[];
  assert.deepEqual(fds.map((f) => [f.family ?? "fifo", f.type ?? "-", f.listening ?? "-"]), [
    ["AF_INET", "SOCK_STREAM", 1], ["AF_INET6", "SOCK_STREAM", 1], ["AF_INET", "SOCK_DGRAM", 0], ["AF_UNIX", "SOCK_STREAM", 1],
    ["AF_UNIX", "SOCK_DGRAM", 0], ["AF_UNIX", "SOCK_STREAM", 1], ["AF_UNIX", "SOCK_SEQPACKET", 1], ["fifo", "-", "-"],
  ]);
  assert.ok(fds.every((f) => !f.cloexec), "the fds are inherited");
  assert.deepEqual(fds.map((f) => f.nonblock), [false, false, false, false, false, false, false, true], "sockets blocking; the FIFO non-blocking like ListenFIFO=");
  assert.equal(view.next, "closed", "nothing else leaks into the program");
  assert.match(r.stderr, /^Listening on 127\.0\.0\.1:[1-9]\d* as 3\.$/m, "port 0 is reported as the port the kernel picked");
});

test("fds passed to sdkit itself are passed on first (chained under systemd-socket-activate)", async () => {
  const dir = tempDir("chain");
  const port = await freePort();
  const inner = join(dir, "inner.sock");
  const r = await runActivator(["systemd-socket-activate", "-l", `127.0.0.1:${port}`, "--fdname=outer", "-E", "PATH",
    ...SDKIT, "activate", "-l", inner, "--fdname", "outer:inner", SHOWFDS], { listeners: 1, pokeAt: `127.0.0.1:${port}` });
  assert.equal(r.code, 0, r.stderr);
  const { view } = parse(r.stdout);
  assert.equal((view.vars as Record<string, string>).LISTEN_FDNAMES, "outer:inner");
  assert.deepEqual((view.fds as { family: string; local: string }[]).map((f) => f.family), ["AF_INET", "AF_UNIX"]);
  assert.match(r.stderr, /Received 1 descriptors via the environment\./);
});

test("--accept: one child per connection with the connection at fd 3, REMOTE_ADDR/PORT, LISTEN_FDNAMES=connection", async () => {
  const port = await freePort();
  const child = spawn(SDKIT[0]!, [...SDKIT.slice(1), "activate", "--accept", "-l", `127.0.0.1:${port}`, "/bin/sh", "-c",
    `exec ${SHOWFDS} >&3`], { cwd: ROOT, env: { PATH: process.env.PATH!, HOME: "/root" }, stdio: ["ignore", "pipe", "pipe"] });
  const done = finish(child);
  const died = stderrLines(child, /^Child \d+ died with code 0$/, 2);
  await stderrLines(child, /^Listening on /);
  const ask = () => new Promise<{ local: number; reply: View }>((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let data = "";
    s.on("data", (d) => (data += d));
    s.on("error", reject);
    s.on("end", () => resolve({ local: s.localPort!, reply: parse(data) }));
  });
  const [a, b] = [await ask(), await ask()];
  for (const { local, reply } of [a, b]) {
    assert.deepEqual(reply.view.vars, { LISTEN_FDS: "1", LISTEN_FDNAMES: "connection", FOO: null, BAR: null, REMOTE_ADDR: "127.0.0.1", REMOTE_PORT: String(local) });
    assert.equal(reply.view.listenPidIsOwn, true);
    const fd3 = (reply.view.fds as { listening: number; peer: string; nonblock: boolean }[])[0]!;
    assert.equal(fd3.listening, 0);
    assert.equal(fd3.peer, `('127.0.0.1', ${local})`);
    assert.equal(fd3.nonblock, false, "a blocking socket, as accept4(…, 0) gives");
  }
  assert.notEqual(a.reply.pid, b.reply.pid);
  await died;
  child.kill("SIGTERM");
  const r = await done;
  assert.equal(r.signal, "SIGTERM", "dies by the signal, like the original");
  assert.match(r.stderr, new RegExp(`^Spawned /bin/sh \\(/bin/sh -c .*\\) as PID ${a.reply.pid}\\.$`, "m"));
});

test("usage and runtime errors: same exit codes as systemd-socket-activate, similar messages", async () => {
  const dir = tempDir("err");
  const cases: [string[], RegExp][] = [
    [["-l", "127.0.0.1:1"], /command to execute is missing/],
    [["-d", "-a", "-l", "127.0.0.1:1", "/bin/true"], /Datagram sockets do not accept connections\. The --datagram and --accept options may not be combined\./],
    [["-d", "--seqpacket", "-l", "127.0.0.1:1", "/bin/true"], /--(datagram|seqpacket) may not be combined with --(seqpacket|datagram)/],
    [["--bogus", "/bin/true"], /--bogus/],
    [["-l", "foo:bar", "/bin/true"], /Failed to parse socket address "foo:bar"/],
    [["-l", "192.0.2.1:80", "/bin/true"], /Failed to open '192\.0\.2\.1:80': .*EADDRNOTAVAIL|Cannot assign requested address/],
    [["/bin/true"], /No sockets to listen on specified or passed in\./],
  ];
  for (const [args, re] of cases) {
    const real = await finish(spawn("systemd-socket-activate", args, { stdio: ["ignore", "pipe", "pipe"] }));
    const ours = await finish(spawn(SDKIT[0]!, [...SDKIT.slice(1), "activate", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));
    assert.equal(ours.code, real.code, `${args.join(" ")}: ${ours.stderr}`);
    assert.equal(ours.code, 1);
    assert.match(ours.stderr, re, args.join(" "));
  }
  // A program that cannot be executed: the activator reports it and exits with 1.
  const sock = join(dir, "x.sock");
  const ours = await runActivator([...SDKIT, "activate", "-l", sock, join(dir, "missing")], { listeners: 1, pokeAt: sock });
  assert.equal(ours.code, 1);
  assert.match(ours.stderr, /^Failed to execp .*missing \(.*missing\): /m);
});
