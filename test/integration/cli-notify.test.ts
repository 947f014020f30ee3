// `sdkit notify` against the real `systemd-notify`: same datagram, same sender credentials (the
// calling shell), same exit codes — and no barrier hang.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { NotifyReceiver, type ReceivedNotifyMessage } from "../../src/notify/receiver.js";
import { ROOT } from "../helpers/spawn.js";
import { SDKIT, finish } from "../fixtures/cli-kit.js";

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
const OURS = SDKIT.map(quote).join(" ") + " notify";

/** Runs `NOTIFIER args` from a shell (which prints its pid first); returns rc, shell pid and the messages received. */
async function viaShell(notifier: string, args: string[], rx: NotifyReceiver | undefined, settleMs = 300) {
  const got: ReceivedNotifyMessage[] = [];
  const on = (m: ReceivedNotifyMessage) => { if (m.fields.BARRIER !== "1") got.push(m); };
  rx?.on("message", on);
  const env: Record<string, string> = { PATH: process.env.PATH! };
  if (rx) env.NOTIFY_SOCKET = rx.path;
  const r = await finish(spawn("/bin/sh", ["-c", `echo $$; ${notifier} ${args.map(quote).join(" ")}; echo rc=$?`], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] }));
  await new Promise((res) => setTimeout(res, settleMs));
  rx?.off("message", on);
  const [pid, rc] = [Number(r.stdout.split("\n")[0]), Number(/rc=(\d+)/.exec(r.stdout)![1])];
  return { pid, rc, stdout: r.stdout, stderr: r.stderr, got };
}

test("same message and credentials as systemd-notify", async (t) => {
  const rx = new NotifyReceiver().listen();
  t.after(() => rx.close());
  for (const args of [["--ready", "--status=Hello world", "X_A=1"], ["--pid", "WATCHDOG=1", "FOO=bar"], ["--status=only"], ["--ready"]]) {
    const real = await viaShell("systemd-notify", args, rx);
    const ours = await viaShell(OURS, args, rx);
    assert.equal(ours.rc, 0, ours.stderr);
    assert.equal(real.rc, 0, real.stderr);
    assert.equal(ours.got.length, 1, args.join(" "));
    const norm = (m: ReceivedNotifyMessage, shell: number) => m.raw.toString().replace(String(shell), "<shell>");
    assert.equal(norm(ours.got[0]!, ours.pid), norm(real.got[0]!, real.pid), args.join(" "));
    assert.equal(ours.got[0]!.pid, ours.pid, "sent on behalf of the calling shell, as systemd-notify does");
    assert.equal(real.got[0]!.pid, real.pid);
  }
});

test("exit codes: no NOTIFY_SOCKET, no arguments, bad pid, --booted", async () => {
  for (const args of [["--ready"], [], ["--pid=abc", "READY=1"], ["--booted"]]) {
    const real = await viaShell("systemd-notify", args, undefined, 0);
    const ours = await viaShell(OURS, args, undefined, 0);
    assert.equal(ours.rc, real.rc, `${args.join(" ")}: ${ours.stderr}`);
  }
  const none = await viaShell(OURS, ["--ready"], undefined, 0);
  assert.match(none.stderr, /No status data could be sent: \$NOTIFY_SOCKET was not set/);
});

test("no barrier hang against a receiver that keeps fds; --barrier waits and reports", async (t) => {
  const rx = new NotifyReceiver().listen();
  t.after(() => rx.close());
  const kept: number[] = [];
  rx.on("message", (m: ReceivedNotifyMessage) => { kept.push(...m.takeFds()); });
  const plain = await viaShell(OURS, ["--ready"], rx);
  assert.equal(plain.rc, 0);
  assert.deepEqual(plain.got.map((m) => m.raw.toString()), ["READY=1"]);
  assert.equal(kept.length, 0, "no BARRIER=1 (with its pipe fd) was sent");
  const withBarrier = await viaShell(OURS, ["--barrier=300", "READY=1"], rx);
  assert.equal(withBarrier.rc, 1);
  assert.match(withBarrier.stderr, /BARRIER=1 was not acknowledged/);
  assert.equal(kept.length, 1);
  const { native } = await import("../../src/native/binding.js");
  for (const fd of kept) native().close(fd);
});
