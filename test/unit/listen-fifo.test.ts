import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, lstatSync, openSync, symlinkSync, writeFileSync, constants as fsc } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type net from "node:net";
import * as sd from "../../src/index.js";
import { native } from "../../src/native/binding.js";
import { inspectFd } from "../../src/filetest/inspect.js";
import { inherit, rawUnix, rejectsWith, scenario, tempDir } from "../fixtures/listen-util.js";

/** Collects data until `want` bytes arrived; fails on 'end' (a FIFO opened O_RDWR never ends). */
function collect(sock: net.Socket, want: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += String(d);
      if (buf.length >= want.length) { sock.off("data", onData); sock.off("end", onEnd); resolve(buf); }
    };
    const onEnd = () => reject(new Error(`FIFO stream ended after ${JSON.stringify(buf)}`));
    sock.on("data", onData);
    sock.on("end", onEnd);
  });
}

const closed = (s: net.Socket) => { const p = once(s, "close"); s.destroy(); return p; };

test("creates a FIFO with an exact mode; separate writers come and go without EOF", scenario(async () => {
  const t = tempDir("fifo");
  try {
    const path = join(t.dir, "in.fifo");
    const f = await sd.listenFifo({ path, mode: 0o620 });
    const st = lstatSync(path);
    assert.ok(st.isFIFO());
    assert.equal(st.mode & 0o777, 0o620);
    const got = collect(f, "one\ntwo\nthree\n");
    for (const [cmd, args] of [["sh", ["-c", `echo one > ${path}`]], ["sh", ["-c", `echo two > ${path}`]], ["python3", ["-c", `open(${JSON.stringify(path)}, "w").write("three\\n")`]]] as const) {
      const r = spawnSync(cmd, args, { timeout: 20_000 });
      assert.equal(r.status, 0, String(r.stderr));
    }
    assert.equal(await got, "one\ntwo\nthree\n");
    assert.deepEqual(sd.activeFds().map((a) => a.name), ["fifo"]);
    assert.equal(inspectFd(sd.activeFds()[0]!.fd).kind, "fifo");
    await closed(f);
    assert.ok(existsSync(path), "destroy() never removes the FIFO");
  } finally { t.done(); }
}));

test("an existing FIFO is reused; a file, socket or symlink at the path is refused and kept", scenario(async () => {
  const t = tempDir("fifo");
  try {
    const fifo = join(t.dir, "f");
    native().mkfifo(fifo, 0o600);
    const f = await sd.listenFifo({ path: fifo, mode: 0o644 });
    assert.equal(lstatSync(fifo).mode & 0o777, 0o600, "an existing FIFO keeps its mode");
    writeFileSync(join(t.dir, "file"), "keep");
    symlinkSync(fifo, join(t.dir, "link"));
    native().close(rawUnix(join(t.dir, "sock"), "stream"));
    await rejectsWith(sd.listenFifo({ path: join(t.dir, "file") }), "ERR_SD_WRONG_KIND", "regular file");
    await rejectsWith(sd.listenFifo({ path: join(t.dir, "link") }), "ERR_SD_WRONG_KIND", "symbolic link");
    await rejectsWith(sd.listenFifo({ path: join(t.dir, "sock") }), "ERR_SD_WRONG_KIND", "socket");
    assert.ok(lstatSync(join(t.dir, "file")).isFile() && lstatSync(join(t.dir, "link")).isSymbolicLink());
    await rejectsWith(sd.listenFifo({}), "ERR_SD_NO_SUCH_FD_NAME");
    await rejectsWith(sd.listenFifo({ path: join(t.dir, "x"), mode: 0o10000 }), "ERR_SD_INVALID_ARG");
    await closed(f);
  } finally { t.done(); }
}));

test("inherits a ListenFIFO= fd by name (opened O_RDWR|O_NONBLOCK as systemd does)", scenario(async () => {
  const t = tempDir("fifo");
  try {
    const path = join(t.dir, "sd.fifo");
    native().mkfifo(path, 0o600);
    const fd = openSync(path, fsc.O_RDWR | fsc.O_NONBLOCK);
    inherit([{ name: "fifo", fd }, { name: "ctl", fd: rawUnix(join(t.dir, "c.sock"), "dgram") }]);
    await rejectsWith(sd.listenFifo({ name: "ctl" }), "ERR_SD_WRONG_KIND", '"ctl"', "Unix datagram socket", "FIFO");
    await rejectsWith(sd.listenFifo({ name: "fifo", path: join(t.dir, "other") }), "ERR_SD_WRONG_KIND", "FIFO at");
    const f = await sd.listenFifo({ name: "fifo" });
    const got = collect(f, "hello");
    writeFileSync(path, "hello");
    assert.equal(await got, "hello");
    await closed(f);
  } finally { t.done(); }
}));
