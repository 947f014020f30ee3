// Socket activation in real child processes: the fds are placed at 3.. by spawn, LISTEN_PID is
// the child's own pid (sh shim), and the child reports what sdkit saw. Every scenario checks
// that the variables are gone afterwards and that this process's fds are unchanged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, openSync, constants as fsc, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { native } from "../../src/native/binding.js";
import { encodeUnixPath } from "../../src/util/unix-path.js";
import { assertNoFdLeak } from "../helpers/fd-leak.js";
import { ROOT, TSX, fixture, run, spawnWithFds, type SpawnOptions } from "../helpers/spawn.js";

const n = native();
const K = n.constants as Record<string, number>;
const NO_ENV = { LISTEN_PID: null, LISTEN_FDS: null, LISTEN_FDNAMES: null, LISTEN_PIDFDID: null };

interface Shown {
  pid: number; count?: number; names?: string[];
  fds?: { fd: number; name: string; what: string; cloexec: boolean }[];
  error?: { name: string; code: string; message: string };
  env: Record<string, string | null>;
}

/** Runs show-activation.ts with the options and parses its line. */
async function show(opts: SpawnOptions, argv = [...TSX, fixture("show-activation.ts")]): Promise<Shown> {
  const r = await run(spawnWithFds(argv, opts));
  assert.equal(r.code, 0, `child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as Shown;
}

/** argv running an inline ESM script that has `sd` (src/index.ts) and `nat` (the addon) in scope. */
function inline(body: string): string[] {
  const src = (p: string) => JSON.stringify(pathToFileURL(join(ROOT, "src", p)).href);
  const code = `const sd = await import(${src("index.ts")}); const { native } = await import(${src("native/binding.ts")}); const nat = native();\n${body}`;
  return [...TSX, "--input-type=module", "-e", code];
}

function ok<T>(v: T | number, what: string): T {
  if (typeof v === "number") assert.fail(`${what} failed: ${v}`);
  return v;
}
function tcpListener(): { fd: number; port: number } {
  const fd = n.socket(K.AF_INET!, K.SOCK_STREAM! | K.SOCK_CLOEXEC!, 0);
  assert.ok(fd >= 0);
  assert.equal(n.bind(fd, { family: K.AF_INET!, address: "127.0.0.1", port: 0 }), 0);
  assert.equal(n.listen(fd, 16), 0);
  return { fd, port: ok(n.getsockname(fd), "getsockname").port! };
}
function unixDgram(path: string): number {
  const fd = n.socket(K.AF_UNIX!, K.SOCK_DGRAM! | K.SOCK_CLOEXEC!, 0);
  assert.equal(n.bind(fd, { family: K.AF_UNIX!, path: encodeUnixPath(path) }), 0);
  return fd;
}
/** Inline-script snippets: clear FD_CLOEXEC on fds 3..3+k-1 (recording that it worked), report it. */
const CLEAR = (k: number) => `const fdRange = Array.from({ length: ${k} }, (_, i) => 3 + i);
  for (const fd of fdRange) nat.setCloexec(fd, false);
  const cleared = fdRange.map((fd) => (nat.getFlags(fd, 0) & 1) === 1);`;
const REPORT = (k: number, extra = "") => `console.log(JSON.stringify({ cleared, cloexec: Array.from({ length: ${k} }, (_, i) => (nat.getFlags(3 + i, 0) & 1) === 1)${extra} }));`;

function closeAll(fds: number[]): void { for (const fd of fds) assert.equal(n.close(fd), 0); }

test("four kinds of fds: exact names, count, all CLOEXEC, env removed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sdkit-act-"));
  try { await assertNoFdLeak(async () => {
    const tcp = tcpListener();
    const [pr, pw] = ok(n.pipe2(K.O_CLOEXEC!), "pipe2");
    assert.equal(n.mkfifo(join(dir, "fifo"), 0o600), 0);
    const fifo = openSync(join(dir, "fifo"), fsc.O_RDWR | fsc.O_NONBLOCK);
    const dgram = unixDgram(join(dir, "d.sock"));
    const fds = [tcp.fd, pr, fifo, dgram];
    try {
      const names = ["web", "", "fifo", "notify"]; // an empty name travels as an empty entry
      const out = await show({ fds, names });
      assert.equal(out.error, undefined, JSON.stringify(out.error));
      assert.equal(out.count, 4);
      assert.deepEqual(out.names, names);
      assert.deepEqual(out.fds!.map((f) => [f.fd, f.cloexec]), [[3, true], [4, true], [5, true], [6, true]]);
      // Node itself marks fds 0..15 (and on up to the first gap) CLOEXEC at startup
      // (uv_disable_stdio_inheritance), so to see sdkit's own fcntl the child clears them first.
      const res = await run(spawnWithFds(inline(`${CLEAR(4)} const r = sd.listenFdsWithNames(); ${REPORT(4)}`), { fds, names }));
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(JSON.parse(res.stdout.trim()), { cleared: [false, false, false, false], cloexec: [true, true, true, true] });
      assert.equal(out.fds![0]!.what, `a TCP listener on 127.0.0.1:${tcp.port}`);
      assert.equal(out.fds![1]!.what, "a FIFO"); // a pipe is S_IFIFO too
      assert.equal(out.fds![2]!.what, "a FIFO");
      assert.equal(out.fds![3]!.what, `a Unix datagram socket at ${join(dir, "d.sock")}`);
      assert.deepEqual(out.env, NO_ENV);
    } finally {
      closeAll([...fds, pw]);
    }
  }); } finally { rmSync(dir, { recursive: true, force: true }); }
});

test("LISTEN_FDNAMES unset: every fd is 'unknown'", async () => {
  await assertNoFdLeak(async () => {
    const [r, w] = ok(n.pipe2(K.O_CLOEXEC!), "pipe2");
    try {
      const out = await show({ fds: [r, w] });
      assert.deepEqual([out.count, out.names], [2, ["unknown", "unknown"]]);
      assert.deepEqual(out.env, NO_ENV);
    } finally { closeAll([r, w]); }
  });
});

/** Runs the inline body in a child given one pipe at fd 3 but told LISTEN_FDS=`announced`. */
async function overstated(announced: number): Promise<{ count?: number; code?: string; fd?: number; message?: string; target?: string; env: unknown[] }> {
  const [r, w] = ok(n.pipe2(K.O_CLOEXEC!), "pipe2");
  try {
    const body = `let out = {};
      try { out.count = sd.listenFdsWithNames().count; } catch (e) {
        const { readlinkSync } = await import("node:fs");
        out = { code: e.code, fd: e.fd, message: e.message, target: readlinkSync("/proc/self/fd/" + e.fd) };
      }
      out.env = ["LISTEN_PID","LISTEN_FDS","LISTEN_FDNAMES"].map((k) => process.env[k] ?? null);
      console.log(JSON.stringify(out));`;
    // spawnWithFds announces fds.length; announce more through a second shim layer.
    const c = await run(spawnWithFds(["/bin/sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=${announced} exec "$0" "$@"`, ...inline(body)], { fds: [r], activation: false }));
    assert.equal(c.code, 0, c.stderr);
    return JSON.parse(c.stdout.trim());
  } finally { closeAll([r, w]); }
}

test("LISTEN_FDS larger than the fds passed -> ERR_SD_ACTIVATION at the first fd that is Node's own, never adopted", async () => {
  await assertNoFdLeak(async () => {
    // Node opens its own fds right after the passed ones, libuv's epoll first: fd 4 here.
    for (const announced of [2, 3, 100000]) {
      const out = await overstated(announced);
      assert.equal(out.count, undefined, `LISTEN_FDS=${announced} must not be accepted (Node's own fds would join the pool)`);
      assert.equal(out.code, "ERR_SD_ACTIVATION");
      assert.equal(out.fd, 4, "the first fd past the one passed");
      assert.equal(out.target, "anon_inode:[eventpoll]");
      assert.match(out.message!, /fd 4 is Node\.js's own anon_inode:\[eventpoll\]/);
      assert.deepEqual(out.env, [null, null, null], "variables are removed even on failure");
    }
  });
});

test("names count mismatch: ERR_SD_LISTEN_FDNAMES, but the fds are CLOEXEC and the env removed (libsystemd order)", async () => {
  await assertNoFdLeak(async () => {
    const [r, w] = ok(n.pipe2(K.O_CLOEXEC!), "pipe2");
    try {
      const body = `${CLEAR(2)} const out = {};
        try { sd.listenFdsWithNames(); } catch (e) { out.code = e.code; out.name = e.name; }
        try { sd.listenFdsWithNames(); } catch (e) { out.again = e.code; }
        out.env = ["LISTEN_PID","LISTEN_FDS","LISTEN_FDNAMES"].map((k) => process.env[k] ?? null);
        ${REPORT(2, ", ...out")}`;
      const res = await run(spawnWithFds(inline(body), { fds: [r, w], names: ["only-one"] }));
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(JSON.parse(res.stdout.trim()), {
        cleared: [false, false], cloexec: [true, true],
        code: "ERR_SD_LISTEN_FDNAMES", name: "ActivationError", again: "ERR_SD_LISTEN_FDNAMES", env: [null, null, null],
      });
    } finally { closeAll([r, w]); }
  });
});

test("LISTEN_PID of another process: count 0, variables removed", async () => {
  await assertNoFdLeak(async () => {
    const [r, w] = ok(n.pipe2(K.O_CLOEXEC!), "pipe2");
    try {
      const out = await show({ fds: [r], names: ["x"], listenPid: String(process.pid) });
      assert.equal(out.error, undefined);
      assert.deepEqual([out.count, out.names], [0, []]);
      assert.deepEqual(out.env, NO_ENV);
    } finally { closeAll([r, w]); }
  });
});

test("garbage LISTEN_PID: ActivationError ERR_SD_LISTEN_PID, variables removed", async () => {
  await assertNoFdLeak(async () => {
    const [r, w] = ok(n.pipe2(K.O_CLOEXEC!), "pipe2");
    try {
      const out = await show({ fds: [r], listenPid: "12ab" });
      assert.deepEqual([out.error?.name, out.error?.code], ["ActivationError", "ERR_SD_LISTEN_PID"]);
      assert.deepEqual(out.env, NO_ENV);
    } finally { closeAll([r, w]); }
  });
});

test("LISTEN_PID missing: count 0 by default; relaxed mode (configureActivation) accepts the fds", async () => {
  await assertNoFdLeak(async () => {
    const [r, w] = ok(n.pipe2(K.O_CLOEXEC!), "pipe2");
    try {
      const noPid = ["/bin/sh", "-c", 'LISTEN_FDS=1 LISTEN_FDNAMES=dev exec "$0" "$@"', ...TSX, fixture("show-activation.ts")];
      const strict = await show({ fds: [r], activation: false }, noPid);
      assert.deepEqual([strict.count, strict.error], [0, undefined]);
      const relaxed = await show({ fds: [r], activation: false, env: { SDKIT_RELAXED: "1" } }, noPid);
      assert.deepEqual([relaxed.count, relaxed.names, relaxed.fds?.[0]?.cloexec], [1, ["dev"], true]);
      assert.deepEqual(relaxed.env, NO_ENV);
    } finally { closeAll([r, w]); }
  });
});

test("LISTEN_PIDFDID: another process's id -> count 0; our own id (set across execve) -> accepted", async (t) => {
  const own = n.pidfdInode(process.pid);
  if (typeof own === "number" || own[1] !== 0x50494446) { t.skip("no pidfs on this kernel (Linux < 6.9): LISTEN_PIDFDID cannot be verified"); return; }
  await assertNoFdLeak(async () => {
    const [r, w] = ok(n.pipe2(K.O_CLOEXEC!), "pipe2");
    try {
      // Our own (the parent's) inode is certainly not the child's.
      const other = await show({ fds: [r], env: { LISTEN_PIDFDID: String(own[0]) } });
      assert.deepEqual([other.count, other.error], [0, undefined]);
      assert.deepEqual(other.env, NO_ENV);
      // The child learns its own pidfd inode, then execve()s itself (same pid, same pidfd inode)
      // with the variables set, as a supervisor that knows the id would.
      const body = `if (!process.env.LISTEN_PIDFDID) {
          const [ino] = nat.pidfdInode(process.pid);
          for (const fd of [0, 1, 2, 3]) nat.setCloexec(fd, false);
          nat.setFl(1, nat.getFlags(1, 1) & ~nat.constants.O_NONBLOCK);
          const env = Object.entries({ ...process.env, LISTEN_PID: String(process.pid), LISTEN_PIDFDID: String(ino), LISTEN_FDS: "1", LISTEN_FDNAMES: "mine" }).map(([k, v]) => k + "=" + v);
          console.log(JSON.stringify({ execve: nat.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], env) }));
        } else {
          const r = sd.listenFdsWithNames();
          console.log(JSON.stringify({ pid: process.pid, count: r.count, names: r.names, env: process.env.LISTEN_PIDFDID ?? null }));
        }`;
      const child = spawnWithFds(inline(body), { fds: [r], activation: false });
      const res = await run(child);
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(JSON.parse(res.stdout.trim()), { pid: child.pid, count: 1, names: ["mine"], env: null });
    } finally { closeAll([r, w]); }
  });
});

test("listenFdsWithNames is read once: a second call returns the same answer; configureActivation afterwards throws", async () => {
  await assertNoFdLeak(async () => {
    const [r, w] = ok(n.pipe2(K.O_CLOEXEC!), "pipe2");
    try {
      const body = `const a = sd.listenFdsWithNames();
        a.names.push("mutated"); // callers get copies: this must not change the next answer
        const b = sd.listenFdsWithNames();
        let cfg = null; try { sd.configureActivation({ relaxed: true }); } catch (e) { cfg = e.code; }
        console.log(JSON.stringify({ a: a.count, b, cfg }));`;
      const res = await run(spawnWithFds(inline(body), { fds: [r, w], names: ["r", "w"] }));
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(JSON.parse(res.stdout.trim()), { a: 2, b: { count: 2, names: ["r", "w"] }, cfg: "ERR_SD_INVALID_ARG" });
    } finally { closeAll([r, w]); }
  });
});

test("an activation error is remembered: the second call throws the same error object", async () => {
  const body = `let e1, e2;
    try { sd.listenFdsWithNames(); } catch (e) { e1 = e; }
    try { sd.listenFdsWithNames(); } catch (e) { e2 = e; }
    console.log(JSON.stringify({ same: e1 === e2 && e1 !== undefined, code: e1?.code }));`;
  const res = await run(spawnWithFds(inline(body), { activation: true, listenPid: "nope" }));
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(JSON.parse(res.stdout.trim()), { same: true, code: "ERR_SD_LISTEN_PID" });
});

test("configureActivation({ unsetEnv: false }) before the first read keeps the variables", async () => {
  await assertNoFdLeak(async () => {
    const [r, w] = ok(n.pipe2(K.O_CLOEXEC!), "pipe2");
    try {
      const body = `sd.configureActivation({ unsetEnv: false });
        const x = sd.listenFdsWithNames();
        console.log(JSON.stringify({ count: x.count, fds: process.env.LISTEN_FDS, pidOk: process.env.LISTEN_PID === String(process.pid) }));`;
      const res = await run(spawnWithFds(inline(body), { fds: [r] }));
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(JSON.parse(res.stdout.trim()), { count: 1, fds: "1", pidOk: true });
    } finally { closeAll([r, w]); }
  });
});
