// startProcess/replaceProcess called from this test process, with real fds in the default
// registry and test/fixtures/process-child.ts as the program: what the child inherits, the
// handshake, the typed rejections, and (last, since a process is replaced only once) a full
// handover with a fake service manager: RELOADING=1, READY=1, MAINPID=<child>, BARRIER=1 in
// that order, then the requested signal raised on this process. /proc/self/fd is unchanged
// after every test.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { mkdtempSync, openSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as sd from "../../src/index.js";
import { K, native } from "../../src/native/binding.js";
import { assertNoFdLeak, fdSnapshot } from "../helpers/fd-leak.js";
import { ROOT, TSX, fixture } from "../helpers/spawn.js";
import { alive, waitGone } from "../fixtures/process-harness.js";

const dir = mkdtempSync(join(tmpdir(), "sdkit-start-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const CHILD = [...TSX, fixture("process-child.ts")];
let n = 0;

interface Report {
  pid: number; ppid: number; cwd: string; argv: string[];
  initialEnv: Record<string, string | null>; envAfterLoad: Record<string, string | null>;
  readyFdCloexec: boolean | null; activation: { count: number; names: string[] };
  fds: { fd: number; name: string; what: string }[]; lockTaken?: boolean;
  pendingBefore: boolean; signaled?: boolean; signaledAgain?: boolean; pendingAfter?: boolean; readyFdOpenAfter?: boolean | null;
}

async function readReport(path: string, pid: number): Promise<Report> {
  for (let i = 0; i < 600 && !existsSync(path); i++) {
    if (!alive(pid) && !existsSync(path)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return JSON.parse(readFileSync(path, "utf8")) as Report;
}

function listen(server: net.Server, opts: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => { server.once("error", reject); server.listen(opts, resolve); });
}

/** Exports a TCP listener and a Unix listener with a locked lock file; returns a cleanup function. */
async function exportListeners(): Promise<{ lockPath: string; tcpPort: number; done: () => Promise<void> }> {
  const tcp = net.createServer();
  await listen(tcp, { host: "127.0.0.1", port: 0 });
  const unixPath = join(dir, `s${++n}.sock`), lockPath = `${unixPath}.lock`;
  const unix = net.createServer();
  await listen(unix, { path: unixPath });
  const lockFd = openSync(lockPath, "w");
  assert.equal(native().flock(lockFd, K().LOCK_EX! | K().LOCK_NB!), 0);
  sd.exportFd("web", tcp);
  sd.defaultPool().exportFd("ctl", unix, lockFd); // the pool owns the lock fd now
  const tcpPort = (tcp.address() as net.AddressInfo).port;
  return {
    lockPath, tcpPort,
    done: async () => {
      sd.forget("web");
      sd.forget("ctl");
      await Promise.all([new Promise((r) => tcp.close(r)), new Promise((r) => unix.close(r))]);
    },
  };
}

test("startProcess: the same kind of program with the active fds at 3.., their names, LISTEN_PID = its own pid, the lock fd re-paired", async () => {
  await assertNoFdLeak(async () => {
    const l = await exportListeners();
    const out = join(dir, `report${++n}.json`);
    const saved = { WATCHDOG_PID: process.env.WATCHDOG_PID, LISTEN_PIDFDID: process.env.LISTEN_PIDFDID, WATCHDOG_USEC: process.env.WATCHDOG_USEC };
    Object.assign(process.env, { WATCHDOG_PID: String(process.pid), LISTEN_PIDFDID: "42", WATCHDOG_USEC: "5000000" });
    let pid: number;
    try {
      pid = await sd.startProcess({ CHILD_OUT: out, CHILD_MODE: "report", CHILD_LOCK_PATH: l.lockPath, CHILD_EXTRA: "x" }, { argv: [...CHILD, "a b", "$HOME", ""] });
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
    const r = await readReport(out, pid);
    assert.equal(r.pid, pid);
    assert.equal(r.ppid, process.pid);
    assert.equal(r.cwd, sd.ORIGINAL_CWD);
    assert.deepEqual(r.argv, ["a b", "$HOME", ""]);
    assert.equal(r.initialEnv.LISTEN_PID, String(pid), "LISTEN_PID is the child's own pid");
    assert.equal(r.initialEnv.LISTEN_FDS, "3");
    assert.equal(r.initialEnv.LISTEN_FDNAMES, "web:ctl:sdkit-lock");
    assert.equal(r.initialEnv.LISTEN_PIDFDID, null, "LISTEN_PIDFDID is never passed on");
    assert.equal(r.initialEnv.WATCHDOG_PID, null, "WATCHDOG_PID is never passed on");
    assert.equal(r.initialEnv.WATCHDOG_USEC, "5000000");
    assert.equal(r.initialEnv.SDKIT_READY_FD, null, "startProcess has no handshake");
    assert.equal(r.initialEnv.CHILD_EXTRA, "x");
    assert.deepEqual(r.activation, { count: 3, names: ["web", "ctl", "sdkit-lock"] });
    assert.match(r.fds[0]!.what, new RegExp(`127\\.0\\.0\\.1:${l.tcpPort}`));
    assert.match(r.fds[1]!.what, /s\d+\.sock/);
    assert.equal(r.lockTaken, true, "the child's registry paired the lock fd with its socket by path");
    assert.equal(r.pendingBefore, false);
    await waitGone(pid);
    await l.done();
  });
});

test("startProcess rejects with ERR_SD_EXEC when the child cannot be spawned", async () => {
  await assertNoFdLeak(async () => {
    await assert.rejects(sd.startProcess(undefined, { argv: CHILD, cwd: "/nonexistent-dir" }), (e: sd.SdError) => e.code === "ERR_SD_EXEC" && /ENOENT/.test(e.message));
  });
});

test("replaceProcess rejects a bad signal name or argv before starting anything", async () => {
  await assert.rejects(sd.replaceProcess("SIGNOPE" as NodeJS.Signals), (e: sd.SdError) => e.code === "ERR_SD_INVALID_ARG");
  await assert.rejects(sd.replaceProcess(null, {}, { argv: [] }), (e: sd.SdError) => e.code === "ERR_SD_INVALID_ARG");
  assert.throws(() => sd.startProcess({}, { argv: [""] }), (e: sd.SdError) => e.code === "ERR_SD_INVALID_ARG");
  assert.equal(sd.replacementStatus().phase, "idle");
});

test("replaceProcess: a successor that exits is reported with its status; one replacement at a time", async () => {
  await assertNoFdLeak(async () => {
    const l = await exportListeners();
    const out = join(dir, `report${++n}.json`);
    const first = sd.replaceProcess(null, { CHILD_OUT: out, CHILD_MODE: "never" }, { argv: CHILD, timeoutMs: 60_000 });
    assert.equal(sd.replacementStatus().phase, "replacing");
    await assert.rejects(sd.replaceProcess(null, {}, { argv: CHILD }), (e: sd.ReplaceError) => e.code === "ERR_SD_REPLACE_IN_PROGRESS" && e.reason === "in-progress");
    const pid = sd.replacementStatus().pid!;
    const r = await readReport(out, pid);
    assert.equal(r.initialEnv.SDKIT_PARENT_PID, String(process.pid));
    assert.equal(r.initialEnv.SDKIT_READY_FD, "6", "the pipe right after the 3 fds");
    assert.equal(r.envAfterLoad.SDKIT_READY_FD, null, "claimed and removed from process.env when sdkit loaded");
    assert.equal(r.readyFdCloexec, true, "and marked close-on-exec, so helpers it spawns cannot hold it");
    assert.equal(r.pendingBefore, true);
    process.kill(pid, "SIGKILL"); // a crash while starting
    await assert.rejects(first, (e: sd.ReplaceError) => {
      assert.equal(e.code, "ERR_SD_REPLACE_FAILED");
      assert.equal(e.reason, "exit");
      assert.equal(e.pid, pid);
      assert.equal(e.signal, "SIGKILL");
      assert.match(e.message, /was killed by SIGKILL before it signaled readiness.*keeps serving/);
      return true;
    });
    assert.equal(sd.replacementStatus().phase, "idle");
    await l.done();
  });
});

test("replaceProcess: exit status, timeout (SIGTERM, then the child is gone) and exec failures are typed", async () => {
  await assertNoFdLeak(async () => {
    await assert.rejects(sd.replaceProcess(null, { CHILD_OUT: join(dir, `r${++n}`), CHILD_MODE: "exit" }, { argv: CHILD }),
      (e: sd.ReplaceError) => e.reason === "exit" && e.exitCode === 4 && /exited with status 4/.test(e.message));
    const t0 = Date.now();
    await assert.rejects(sd.replaceProcess(null, { CHILD_OUT: join(dir, `r${++n}`), CHILD_MODE: "never" }, { argv: CHILD, timeoutMs: 8_000 }),
      (e: sd.ReplaceError) => e.code === "ERR_SD_REPLACE_TIMEOUT" && e.reason === "timeout" && e.pid !== undefined && !alive(e.pid) && /within 8000 ms/.test(e.message));
    assert.ok(Date.now() - t0 >= 8_000);
    await assert.rejects(sd.replaceProcess(null, {}, { argv: ["/nonexistent/program"] }),
      (e: sd.ReplaceError) => e.reason === "exec" && e.exitCode === 127);
    await assert.rejects(sd.replaceProcess(null, {}, { argv: [join(ROOT, "package.json")] }),
      (e: sd.ReplaceError) => e.reason === "exec" && e.exitCode === 126 && /not executable/.test(e.message));
  });
});

test("replaceProcess hands over: RELOADING=1, READY=1, MAINPID=<successor>, BARRIER=1 in order, then the signal is raised here", async () => {
  const rx = new sd.NotifyReceiver().listen();
  const got: string[] = [];
  rx.on("message", (m: sd.ReceivedNotifyMessage) => got.push(m.assignments.map(([k, v]) => `${k}=${k === "MONOTONIC_USEC" ? "*" : v}`).join(" ")));
  const savedNotify = process.env.NOTIFY_SOCKET;
  process.env.NOTIFY_SOCKET = rx.env.NOTIFY_SOCKET;
  const order: string[] = [];
  const raised = new Promise<void>((resolve) => process.once("SIGUSR2", () => { order.push("signal"); resolve(); }));
  let pid: number | undefined;
  const check = fdSnapshot();
  const l = await exportListeners();
  try {
    const out = join(dir, `report${++n}.json`);
    pid = await sd.replaceProcess("SIGUSR2", { CHILD_OUT: out, CHILD_MODE: "ready", CHILD_LINGER: "30000" }, { argv: CHILD, reload: true });
    order.push("resolved");
    await raised;
    assert.deepEqual(order, ["resolved", "signal"], "the signal comes after the handover");
    assert.deepEqual(got, ["RELOADING=1 MONOTONIC_USEC=* STATUS=replacing the main process", "READY=1", `MAINPID=${pid}`, "BARRIER=1"]);
    assert.deepEqual(sd.replacementStatus(), { phase: "replaced", pid });
    const r = await readReport(out, pid);
    assert.equal(r.signaled, true);
    assert.equal(r.signaledAgain, false, "idempotent");
    assert.equal(r.pendingAfter, false);
    assert.equal(r.readyFdOpenAfter, false, "the pipe is closed after signaling");
    await assert.rejects(sd.replaceProcess(null), (e: sd.ReplaceError) => e.code === "ERR_SD_REPLACE_IN_PROGRESS" && /already replaced by pid/.test(e.message));
  } finally {
    if (pid !== undefined && alive(pid)) process.kill(pid, "SIGTERM");
    if (pid !== undefined) await waitGone(pid).catch(() => process.kill(pid!, "SIGKILL"));
    await l.done();
    if (savedNotify === undefined) delete process.env.NOTIFY_SOCKET; else process.env.NOTIFY_SOCKET = savedNotify;
  }
  await new Promise((r) => setImmediate(r));
  check();
  rx.close();
});

test("signalParentTermination is false without a waiting parent", () => {
  assert.equal(sd.signalParentTermination(), false);
  assert.equal(sd.isPendingSuccessor(), false);
});
