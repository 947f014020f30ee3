// Fault scenarios: zero-downtime replacement (test/fixtures/fault-daemon.ts). The successor
// crashes, hangs, exits after taking the fds, or is left alone by a parent killed mid-handover;
// two replacements at once; EMFILE in the parent. Each asserts who serves afterwards, that no
// request failed while a load client kept asking, and that the parent's fds are unchanged.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { fixture } from "../helpers/spawn.js";
import { fdSnapshot } from "../helpers/fd-leak.js";
import { TSX_ABS, tempDir } from "./lib.js";

interface Ev { pid: number; gen: number; ev: string; [k: string]: unknown }
const fileCheck = fdSnapshot();
after(() => fileCheck());

/** gen 1 of the daemon, with every generation's JSON lines. */
class Daemon {
  readonly events: Ev[] = [];
  private waiters: (() => void)[] = [];
  private stderr = "";
  readonly child: ChildProcess;
  readonly closed: Promise<void>;
  constructor(readonly ctl: string, env: Record<string, string> = {}) {
    this.child = spawn("/bin/sh", ["-c", 'ulimit -n 1024 && exec "$0" "$@"', ...TSX_ABS, fixture("fault-daemon.ts")], {
      env: { ...process.env, FAULT_CTL: ctl, ...env }, stdio: ["ignore", "pipe", "pipe"],
    });
    let buf = "";
    this.child.stdout!.on("data", (d) => {
      buf += d;
      for (let i; (i = buf.indexOf("\n")) >= 0; buf = buf.slice(i + 1)) {
        const line = buf.slice(0, i);
        if (line.startsWith("{")) { this.events.push(JSON.parse(line) as Ev); for (const w of this.waiters.splice(0)) w(); }
      }
    });
    this.child.stderr!.on("data", (d) => (this.stderr += d));
    this.closed = new Promise((r) => this.child.once("close", () => r()));
  }
  async wait(pred: (e: Ev) => boolean, what: string, timeoutMs = 90_000): Promise<Ev> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no ${what}; events: ${JSON.stringify(this.events)}; stderr: ${this.stderr.slice(-1500)}`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 250); });
    }
  }
  replace(ctl: object): void {
    writeFileSync(this.ctl, JSON.stringify(ctl));
    const cur = this.events.filter((e) => e.ev === "listening").at(-1)!;
    process.kill(cur.pid, "SIGUSR2");
  }
  /** Stops every generation still alive and waits for the shared pipes to close. */
  async stop(): Promise<void> {
    for (const e of this.events) if (e.ev === "listening") kill(e.pid, "SIGKILL");
    kill(this.child.pid!, "SIGKILL");
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, 20_000))]);
  }
}

function kill(pid: number, sig: NodeJS.Signals): void { try { process.kill(pid, sig); } catch { /* gone */ } }
function alive(pid: number): boolean {
  try { const s = readFileSync(`/proc/${pid}/stat`, "utf8"); return s.slice(s.lastIndexOf(")") + 2)[0] !== "Z"; } catch { return false; }
}

/** One request on a new connection; resolves with the answering pid. */
function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/", agent: false, timeout: 20_000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d)).on("end", () => resolve(Number(body)));
    });
    req.on("timeout", () => req.destroy(new Error("request timed out"))).on("error", reject);
  });
}

/** Sequential requests until stopped; every failure is recorded. */
function load(port: number) {
  let stopped = false;
  const pids = new Map<number, number>();
  const errors: string[] = [];
  const loop = (async () => {
    while (!stopped) {
      try { const pid = await get(port); pids.set(pid, (pids.get(pid) ?? 0) + 1); } catch (e) { errors.push((e as Error).message); }
    }
  })();
  return { async stop() { stopped = true; await loop; return { pids, errors }; } };
}

/** Inodes of listening sockets (TCP state 0A, Unix __SO_ACCEPTCON) from /proc/net. */
function listeningInodes(): Set<string> {
  const out = new Set<string>();
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const l of readFileSync(f, "utf8").split("\n").slice(1)) { const c = l.trim().split(/\s+/); if (c[3] === "0A") out.add(c[9]!); }
  }
  for (const l of readFileSync("/proc/net/unix", "utf8").split("\n").slice(1)) { const c = l.trim().split(/\s+/); if (c.length > 6 && (parseInt(c[3]!, 16) & 0x10000)) out.add(c[6]!); }
  return out;
}

/**
 * The kinds of a process's open fds: pipes, eventfds etc. by kind (their inodes change),
 * listening sockets by inode; connections are left out (clients come and go).
 */
function fdKinds(pid: number): string[] {
  const listening = listeningInodes();
  const out: string[] = [];
  for (const f of readdirSync(`/proc/${pid}/fd`)) {
    let t: string;
    try { t = readlinkSync(`/proc/${pid}/fd/${f}`); } catch { continue; }
    const sock = /^socket:\[(\d+)\]$/.exec(t);
    if (sock) { if (listening.has(sock[1]!)) out.push(`listener:${sock[1]}`); continue; }
    out.push(t.replace(/:\[\d+\]$/, ""));
  }
  return out.sort();
}
async function assertSameFds(pid: number, before: string[]): Promise<void> {
  for (let i = 0; i < 100 && fdKinds(pid).join() !== before.join(); i++) await new Promise((r) => setTimeout(r, 50)); // connections closing
  assert.deepEqual(fdKinds(pid), before, `pid ${pid} holds other fds after the failed replacement`);
}

/** Runs a failing replacement under load and checks gen 1 carried on untouched. */
async function failedReplacement(ctl: object): Promise<Ev> {
  const t = tempDir("proc");
  const d = new Daemon(join(t.dir, "ctl.json"));
  try {
    const g1 = await d.wait((e) => e.ev === "listening", "gen 1 listening");
    const port = g1.port as number;
    await get(port);
    const fds = fdKinds(g1.pid);
    const l = load(port);
    d.replace(ctl);
    const failed = await d.wait((e) => e.ev === "replace-failed", "replace-failed");
    const r = await l.stop();
    assert.deepEqual(r.errors, [], "requests failed during the attempt");
    assert.deepEqual([...r.pids.keys()], [g1.pid], "someone else answered");
    assert.equal(await get(port), g1.pid, "gen 1 stopped serving");
    assert.equal(alive(failed.child as number), false, "the failed successor is still running");
    assert.ok(alive(g1.pid));
    await assertSameFds(g1.pid, fds);
    return failed;
  } finally { await d.stop(); t.done(); }
}

test("successor crashes before ready keeps the old process serving", async () => {
  const f = await failedReplacement({ env: { FAULT: "crash-before-ready" } });
  assert.equal(f.code, "ERR_SD_REPLACE_FAILED");
  assert.equal(f.reason, "exit");
  assert.equal(f.signal, "SIGABRT");
});

test("successor that hangs (deaf to SIGTERM) is killed at the timeout; the old process keeps serving", async () => {
  // A successor stuck in start-up that ignores SIGTERM from its first instruction on.
  const f = await failedReplacement({ argv: ["/bin/sh", "-c", "trap '' TERM; exec sleep 600"], timeoutMs: 4000, killGraceMs: 300 });
  assert.equal(f.code, "ERR_SD_REPLACE_TIMEOUT");
  assert.equal(f.reason, "timeout");
  assert.equal(f.signal, "SIGKILL");
});

test("successor that exits after taking the fds leaves the listener with the old process, nothing lost", async () => {
  const f = await failedReplacement({ env: { FAULT: "exit-after-fds" } });
  assert.equal(f.reason, "exit");
  assert.equal(f.exitCode, 1);
});

test("parent SIGKILLed mid-handover: the successor carries on serving alone", async () => {
  const t = tempDir("proc");
  const gate = join(t.dir, "gate");
  const d = new Daemon(join(t.dir, "ctl.json"));
  try {
    const g1 = await d.wait((e) => e.ev === "listening", "gen 1 listening");
    d.replace({ env: { FAULT: "gate", FAULT_GATE: gate } });
    const g2 = await d.wait((e) => e.ev === "listening" && e.gen === 2, "gen 2 listening");
    // Reaped, not just a zombie leader: its other threads may still hold the pipe until then.
    const reaped = new Promise((r) => d.child.once("exit", r));
    kill(g1.pid, "SIGKILL");
    await reaped;
    writeFileSync(gate, "");
    const sig = await d.wait((e) => e.ev === "signaled", "gen 2 signaled");
    assert.equal(sig.told, false, `nobody was waiting any more: ${JSON.stringify(d.events)}`);
    const l = load(g1.port as number);
    for (let i = 0; i < 20; i++) assert.equal(await get(g1.port as number), g2.pid);
    const r = await l.stop();
    assert.deepEqual(r.errors, []);
    assert.deepEqual([...r.pids.keys()], [g2.pid]);
    assert.ok(alive(g2.pid));
  } finally { await d.stop(); t.done(); }
});

test("two replacements requested at once: one proceeds, the other fails with ERR_SD_REPLACE_IN_PROGRESS", async () => {
  const t = tempDir("proc");
  const d = new Daemon(join(t.dir, "ctl.json"));
  try {
    const g1 = await d.wait((e) => e.ev === "listening", "gen 1 listening");
    const l = load(g1.port as number);
    d.replace({ double: true });
    const done = await d.wait((e) => e.ev === "replaced", "replaced");
    const refused = await d.wait((e) => e.ev === "replace-failed", "the second request's refusal");
    assert.equal(refused.code, "ERR_SD_REPLACE_IN_PROGRESS");
    await d.wait((e) => e.ev === "exit" && e.pid === g1.pid, "gen 1 exit");
    const r = await l.stop();
    assert.deepEqual(r.errors, [], "requests failed during the handover");
    assert.equal(d.events.filter((e) => e.ev === "listening" && e.gen === 2).length, 1, "more than one successor started");
    assert.equal(await get(g1.port as number), done.child);
  } finally { await d.stop(); t.done(); }
});

test("EMFILE in the parent during replacement fails with a typed error, leaks nothing, and the next replacement works", async () => {
  const t = tempDir("proc");
  const d = new Daemon(join(t.dir, "ctl.json"));
  try {
    const g1 = await d.wait((e) => e.ev === "listening", "gen 1 listening");
    await get(g1.port as number);
    const fds = fdKinds(g1.pid);
    d.replace({ fill: true });
    const f = await d.wait((e) => e.ev === "replace-failed", "replace-failed");
    assert.match(`${f.sysCode} ${f.message}`, /EMFILE/);
    assert.match(f.code as string, /^ERR_SD_/);
    assert.equal(await get(g1.port as number), g1.pid);
    await assertSameFds(g1.pid, fds);
    d.replace({});
    const ok = await d.wait((e) => e.ev === "replaced", "the retry");
    await d.wait((e) => e.ev === "exit" && e.pid === g1.pid, "gen 1 exit");
    assert.equal(await get(g1.port as number), ok.child);
  } finally { await d.stop(); t.done(); }
});
