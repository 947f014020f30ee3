// Hardening: files sdkit creates. Lock files are opened with O_NOFOLLOW and mode 0600, and a
// Unix socket's `mode` is in place before the socket is reachable (before listen() for a stream
// socket, at bind() for a datagram socket, which receives as soon as it is bound).
//
// The order of system calls is observed with a small LD_PRELOAD interposer (built here with the
// C compiler CI installs for the addon): it logs open*() of "*.lock" files with their flags and
// mode, the socket file's mode right after bind(), and the mode at the moment listen() is called.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { constants as fsc, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { okOf, probe, tempDir } from "../faults/lib.js";

const SHIM_C = String.raw`
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static void say(const char *fmt, ...) {
  const char *log = getenv("SHIM_LOG");
  if (!log) return;
  char buf[512];
  va_list ap; va_start(ap, fmt); int n = vsnprintf(buf, sizeof buf, fmt, ap); va_end(ap);
  int fd = (int)syscall(SYS_openat, AT_FDCWD, log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  (void)!write(fd, buf, n > (int)sizeof buf ? (int)sizeof buf : n);
  close(fd);
}

static void sock_mode(const char *what, int fd) {
  struct sockaddr_un a; socklen_t len = sizeof a;
  if (getsockname(fd, (struct sockaddr *)&a, &len) < 0 || a.sun_family != AF_UNIX || len <= sizeof(sa_family_t) || a.sun_path[0] == 0) return;
  struct stat st;
  if (stat(a.sun_path, &st) < 0) { say("%s %s missing\n", what, a.sun_path); return; }
  say("%s %s %o\n", what, a.sun_path, st.st_mode & 07777);
}

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
  static int (*real)(int, const struct sockaddr *, socklen_t);
  if (!real) real = dlsym(RTLD_NEXT, "bind");
  int r = real(fd, addr, len);
  if (r == 0) sock_mode("bind", fd);
  return r;
}

int listen(int fd, int backlog) {
  static int (*real)(int, int);
  if (!real) real = dlsym(RTLD_NEXT, "listen");
  sock_mode("listen", fd);
  return real(fd, backlog);
}

static int is_lock(const char *p) { size_t n = strlen(p); return n > 5 && strcmp(p + n - 5, ".lock") == 0; }

static mode_t mode_arg(int flags, va_list ap) { return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0; }

int open(const char *path, int flags, ...) {
  static int (*real)(const char *, int, ...);
  if (!real) real = dlsym(RTLD_NEXT, "open");
  va_list ap; va_start(ap, flags); mode_t mode = mode_arg(flags, ap); va_end(ap);
  if (is_lock(path)) say("open %s %x %o\n", path, flags, mode);
  return real(path, flags, mode);
}
int open64(const char *path, int flags, ...) {
  static int (*real)(const char *, int, ...);
  if (!real) real = dlsym(RTLD_NEXT, "open64");
  va_list ap; va_start(ap, flags); mode_t mode = mode_arg(flags, ap); va_end(ap);
  if (is_lock(path)) say("open %s %x %o\n", path, flags, mode);
  return real(path, flags, mode);
}
int openat(int dirfd, const char *path, int flags, ...) {
  static int (*real)(int, const char *, int, ...);
  if (!real) real = dlsym(RTLD_NEXT, "openat");
  va_list ap; va_start(ap, flags); mode_t mode = mode_arg(flags, ap); va_end(ap);
  if (is_lock(path)) say("open %s %x %o\n", path, flags, mode);
  return real(dirfd, path, flags, mode);
}
int openat64(int dirfd, const char *path, int flags, ...) {
  static int (*real)(int, const char *, int, ...);
  if (!real) real = dlsym(RTLD_NEXT, "openat64");
  va_list ap; va_start(ap, flags); mode_t mode = mode_arg(flags, ap); va_end(ap);
  if (is_lock(path)) say("open %s %x %o\n", path, flags, mode);
  return real(dirfd, path, flags, mode);
}
`;

let shim: string | undefined;
let why = "";
const build = tempDir("shim");
after(() => build.done());
before(() => {
  const src = join(build.dir, "shim.c");
  writeFileSync(src, SHIM_C);
  const out = join(build.dir, "shim.so");
  const r = spawnSync("cc", ["-shared", "-fPIC", "-O1", "-o", out, src, "-ldl"], { encoding: "utf8" });
  if (r.status === 0) shim = out;
  else why = `no C compiler to build the LD_PRELOAD interposer: ${r.error?.message ?? r.stderr}`;
});

/** Runs the probe steps under the interposer; returns the log lines. */
async function traced(steps: [string, ...unknown[]][], umask: string): Promise<{ log: string[]; results: unknown[] }> {
  const log = join(build.dir, `log-${Math.random().toString(36).slice(2)}`);
  const out = await probe(steps, { umask, env: { LD_PRELOAD: shim!, SHIM_LOG: log } });
  return { log: existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [], results: out.results };
}

test("lock files are opened with O_NOFOLLOW|O_CREAT and mode 0600, and stay 0600 whatever the umask", async (t) => {
  if (!shim) return t.skip(why);
  const d = tempDir("lock");
  try {
    const path = join(d.dir, "app.sock");
    const { log, results } = await traced([["listenUnix", { path, unlinkPolicy: "flock" }]], "000");
    okOf(results[0] as never);
    const open = log.filter((l) => l.startsWith(`open ${path}.lock `));
    assert.equal(open.length, 1, log.join("\n"));
    const [, , flagsHex, modeOct] = open[0]!.split(" ");
    const flags = parseInt(flagsHex!, 16);
    assert.equal(flags & fsc.O_NOFOLLOW, fsc.O_NOFOLLOW, `lock opened without O_NOFOLLOW: ${open[0]}`);
    assert.equal(flags & fsc.O_CREAT, fsc.O_CREAT);
    assert.equal(modeOct, "600", `lock created with mode ${modeOct}`);
    assert.equal(statSync(`${path}.lock`).mode & 0o7777, 0o600, "the lock file is not 0600 under umask 000");
  } finally { d.done(); }
});

test("a stream socket's mode is applied before listen(): never reachable with the umask's permissions", async (t) => {
  if (!shim) return t.skip(why);
  const d = tempDir("mode");
  try {
    const path = join(d.dir, "app.sock");
    const { log, results } = await traced([["listenUnix", { path, mode: 0o600 }]], "000");
    okOf(results[0] as never);
    const at = log.find((l) => l.startsWith(`listen ${path} `));
    assert.equal(at, `listen ${path} 600`, `mode when listen() was called: ${log.join(" | ")}`);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  } finally { d.done(); }
});

test("a datagram socket's mode is in place when bind() returns (it receives from then on)", async (t) => {
  if (!shim) return t.skip(why);
  const d = tempDir("dmode");
  try {
    const path = join(d.dir, "log.sock");
    const { log, results } = await traced([["listenUnixgram", { path, mode: 0o640 }]], "000");
    okOf(results[0] as never);
    assert.ok(log.includes(`bind ${path} 640`), `mode right after bind(): ${log.join(" | ")}`);
  } finally { d.done(); }
});
