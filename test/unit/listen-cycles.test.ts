// Create/close cycles for every kind: /proc/self/fd is the same after each cycle (the object,
// the exported dup and any lock fd are all gone with forgetOnClose), and closing never removes
// a socket file or FIFO. Failure paths are cycled too: a refused create must leave nothing open.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { EventEmitter } from "node:events";
import * as sd from "../../src/index.js";
import { fdSnapshot } from "../helpers/fd-leak.js";
import { abstractName, rejectsWith, scenario, tempDir } from "../fixtures/listen-util.js";

const CYCLES = 5;

/** Closes whatever listen* returned and waits for its 'close'. */
async function closeIt(obj: EventEmitter & { close?: () => unknown; destroy?: () => unknown }): Promise<void> {
  const closed = once(obj, "close");
  if (obj.close) obj.close(); else obj.destroy!();
  await closed;
  await new Promise((r) => setImmediate(r));
}

test("every kind: create → close cycles leave /proc/self/fd unchanged and files in place", scenario(async () => {
  const t = tempDir("cyc");
  try {
    const kinds: [string, () => Promise<EventEmitter>, string?][] = [
      ["tcp", () => sd.listenTCP({ host: "127.0.0.1", forgetOnClose: true })],
      ["tcp dual-stack reusePort", () => sd.listenTCP({ reusePort: true, forgetOnClose: true })],
      ["udp", () => sd.listenUDP({ host: "::1", forgetOnClose: true })],
      ["unix", () => sd.listenUnix({ path: join(t.dir, "s.sock"), forgetOnClose: true }), join(t.dir, "s.sock")],
      ["unix flock", () => sd.listenUnix({ path: join(t.dir, "f.sock"), unlinkPolicy: "flock", forgetOnClose: true }), join(t.dir, "f.sock")],
      ["unix abstract", () => sd.listenUnix({ path: abstractName("cyc"), forgetOnClose: true })],
      ["unixgram", () => sd.listenUnixgram({ path: join(t.dir, "g.sock"), forgetOnClose: true }), join(t.dir, "g.sock")],
      ["fifo", () => sd.listenFifo({ path: join(t.dir, "p.fifo"), forgetOnClose: true }), join(t.dir, "p.fifo")],
    ];
    for (const [kind, make, file] of kinds) {
      for (let i = 0; i < CYCLES; i++) {
        const check = fdSnapshot();
        const obj = await make();
        assert.equal(sd.activeFds().length, 1, `${kind}: exported while open`);
        await closeIt(obj as EventEmitter & { close?: () => unknown });
        assert.deepEqual(sd.activeFds(), [], `${kind}: forgotten on close`);
        check();
        if (file) assert.ok(existsSync(file), `${kind}: closing must not remove ${file}`);
      }
    }
  } finally { t.done(); }
}));

test("refused creates leave nothing open, cycle after cycle", scenario(async () => {
  const t = tempDir("cyc");
  try {
    const held = await sd.listenTCP({ host: "127.0.0.1" });
    const port = (held.address() as { port: number }).port;
    const locked = await sd.listenUnix({ path: join(t.dir, "l.sock"), unlinkPolicy: "flock" });
    const dir = join(t.dir, "d");
    mkdirSync(dir);
    for (let i = 0; i < CYCLES; i++) {
      const check = fdSnapshot();
      await rejectsWith(sd.listenTCP({ host: "127.0.0.1", port }), "ERR_SD_ADDRESS_IN_USE");
      await rejectsWith(sd.listenUDP({ host: "192.0.2.1" }), "ERR_SD_SYSCALL", "EADDRNOTAVAIL");
      await rejectsWith(sd.listenUnix({ path: join(t.dir, "l.sock"), unlinkPolicy: "flock" }), "ERR_SD_LOCKED");
      await rejectsWith(sd.listenUnix({ path: dir, unlinkPolicy: "flock" }), "ERR_SD_UNLINK_REFUSED", "directory");
      await rejectsWith(sd.listenUnixgram({ path: join(t.dir, "no", "such", "dir.sock") }), "ERR_SD_SYSCALL", "ENOENT");
      await rejectsWith(sd.listenFifo({ path: dir }), "ERR_SD_WRONG_KIND");
      check();
    }
    await closeIt(held);
    await closeIt(locked);
  } finally { t.done(); }
}));
