/**
 * Socket activation by real socket units in an isolated systemd 252 user manager: one service
 * triggered by three Accept=no socket units with different FileDescriptorName=s (TCP + Unix
 * stream, UDP, FIFO). The fixture show-activation.ts runs as that service and must see exactly
 * the names and kinds systemd passed, all CLOEXEC, with LISTEN_* gone afterwards.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { fixture, ROOT } from "../helpers/spawn.js";
import { freePort } from "../harness/socket-activate.js";
import { useUserManager, type UserManager } from "../harness/user-manager.js";

const manager = useUserManager({ version: 252 });
const dir = mkdtempSync(join(tmpdir(), "sdkit-su-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Shown {
  pid: number;
  count?: number;
  names?: string[];
  fds?: { fd: number; name: string; what: string; cloexec: boolean }[];
  error?: { code: string; message: string };
  env: Record<string, string | null>;
}

/** A oneshot service running the fixture; RemainAfterExit keeps it active so the sockets do
 * not re-trigger it for the connection we leave unaccepted in the backlog. */
function showService(out: string): string {
  return [
    "[Unit]", "StartLimitIntervalSec=0",
    "[Service]", "Type=oneshot", "RemainAfterExit=yes",
    `WorkingDirectory=${ROOT}`, // node resolves --import tsx from here
    `ExecStart=${process.execPath} --import tsx ${fixture("show-activation.ts")}`,
    `StandardOutput=append:${out}`, `StandardError=append:${out}.err`, "",
  ].join("\n");
}

function socketUnit(service: string, listen: string[], name?: string): string {
  return ["[Unit]", "StartLimitIntervalSec=0", "[Socket]", "Accept=no", ...listen,
    ...(name ? [`FileDescriptorName=${name}`] : []), `Service=${service}`, ""].join("\n");
}

/** Connects once (the service need not accept), waits for the oneshot to finish, reads its JSON. */
async function triggerAndRead(m: UserManager, service: string, connectTo: { port: number } | { path: string }, out: string): Promise<Shown> {
  const sock = "port" in connectTo ? connect(connectTo.port, "127.0.0.1") : connect(connectTo);
  await new Promise<void>((resolve, reject) => { sock.once("connect", resolve); sock.once("error", reject); });
  sock.destroy();
  const props = await m.waitFor(service, "SubState", /^(exited|failed|dead)$/, 120_000);
  let err = "";
  try { err = readFileSync(`${out}.err`, "utf8"); } catch { /* none written */ }
  assert.equal(props.Result, "success", `${service} failed: ${JSON.stringify(props)} stderr: ${err}`);
  assert.equal(props.SubState, "exited");
  const lines = readFileSync(out, "utf8").trim().split("\n");
  assert.equal(lines.length, 1, `the service must have run exactly once: ${lines.join("\n")}`);
  const shown = JSON.parse(lines[0]!) as Shown;
  const { ExecMainPID } = await m.show(service, ["ExecMainPID"]);
  assert.equal(shown.pid, Number(ExecMainPID), "the fixture is the service's main process (LISTEN_PID)");
  return shown;
}

const GONE = { LISTEN_PID: null, LISTEN_FDS: null, LISTEN_FDNAMES: null, LISTEN_PIDFDID: null };

test("three socket units, one service: TCP+Unix (web), UDP (dns), FIFO (pipe)", async () => {
  const m = manager();
  const [tcp, udp] = [await freePort(), await freePort()];
  const unix = join(dir, "web.sock"), fifo = join(dir, "pipe.fifo"), out = join(dir, "show.jsonl");
  await m.writeUnit("t-show.service", showService(out));
  await m.writeUnit("t-web.socket", socketUnit("t-show.service", [`ListenStream=127.0.0.1:${tcp}`, `ListenStream=${unix}`], "web"));
  await m.writeUnit("t-dns.socket", socketUnit("t-show.service", [`ListenDatagram=127.0.0.1:${udp}`], "dns"));
  await m.writeUnit("t-pipe.socket", socketUnit("t-show.service", [`ListenFIFO=${fifo}`], "pipe"));
  const r = await m.systemctl("start", "t-web.socket", "t-dns.socket", "t-pipe.socket");
  assert.equal(r.code, 0, r.stderr);
  for (const s of ["t-web.socket", "t-dns.socket", "t-pipe.socket"]) await m.waitFor(s, "SubState", "listening");

  const shown = await triggerAndRead(m, "t-show.service", { port: tcp }, out);
  assert.equal(shown.error, undefined, JSON.stringify(shown.error));
  assert.equal(shown.count, 4);
  // systemd orders fds by socket unit in no documented order: compare as a set, fds 3..6.
  assert.deepEqual(shown.fds?.map((f) => f.fd), [3, 4, 5, 6]);
  assert.deepEqual(shown.fds?.map((f) => f.name), shown.names);
  assert.deepEqual(shown.fds?.map((f) => `${f.name}: ${f.what}`).sort(), [
    `dns: a UDP socket on 127.0.0.1:${udp}`,
    "pipe: a FIFO",
    `web: a TCP listener on 127.0.0.1:${tcp}`,
    `web: a Unix stream listener at ${unix}`,
  ]);
  assert.ok(shown.fds?.every((f) => f.cloexec), `every fd must be CLOEXEC: ${JSON.stringify(shown.fds)}`);
  assert.deepEqual(shown.env, GONE);
});

test("a socket unit without FileDescriptorName= names its fd after the unit", async () => {
  const m = manager();
  const unix = join(dir, "anon.sock"), out = join(dir, "anon.jsonl");
  await m.writeUnit("t-anon.service", showService(out));
  await m.writeUnit("t-anon.socket", socketUnit("t-anon.service", [`ListenStream=${unix}`]));
  const r = await m.systemctl("start", "t-anon.socket");
  assert.equal(r.code, 0, r.stderr);
  await m.waitFor("t-anon.socket", "SubState", "listening");

  const shown = await triggerAndRead(m, "t-anon.service", { path: unix }, out);
  assert.deepEqual(shown.fds, [{ fd: 3, name: "t-anon.socket", what: `a Unix stream listener at ${unix}`, cloexec: true }]);
  assert.deepEqual(shown.env, GONE);
});
