// Permission errors need an unprivileged process (root bypasses both checks), so the daemon
// fixture runs as "nobody": a port below 1024 and a Unix path in a root-only directory must give
// ERR_SD_PERMISSION with the address in the message, and leave nothing behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { scenario, tempDir } from "../fixtures/listen-util.js";
import { TSX, fixture, run } from "../helpers/spawn.js";

const NOBODY = 65534;

test("as an unprivileged user: port 80 and a root-only directory give ERR_SD_PERMISSION", scenario(async () => {
  const t = tempDir("perm");
  try {
    chmodSync(t.dir, 0o755); // nobody may look, not create
    const path = join(t.dir, "app.sock");
    const plan = JSON.stringify({ listeners: [
      { fn: "listenTCP", opts: { host: "127.0.0.1", port: 80 } },
      { fn: "listenUDP", opts: { host: "127.0.0.1", port: 53 } },
      { fn: "listenUnix", opts: { path } },
      { fn: "listenTCP", opts: { host: "127.0.0.1", port: 0 } },
    ] });
    const child = spawn(TSX[0]!, [...TSX.slice(1), fixture("listen-daemon.ts"), plan], {
      uid: NOBODY, gid: NOBODY, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, HOME: "/tmp" },
    });
    const done = run(child, 60_000);
    let stdout = "";
    child.stdout!.on("data", (d) => {
      stdout += d;
      if (stdout.includes('"ready":true')) child.stdin!.end("exit\n");
    });
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    const res = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { i?: number; ok?: boolean; code?: string; message?: string });
    const [tcp, udp, unix, free] = [0, 1, 2, 3].map((i) => res.find((x) => x.i === i)!);
    assert.equal(tcp!.code, "ERR_SD_PERMISSION");
    assert.match(tcp!.message!, /127\.0\.0\.1:80\b/);
    assert.match(tcp!.message!, /CAP_NET_BIND_SERVICE/);
    assert.equal(udp!.code, "ERR_SD_PERMISSION");
    assert.match(udp!.message!, /127\.0\.0\.1:53\b/);
    assert.equal(unix!.code, "ERR_SD_PERMISSION");
    assert.ok(unix!.message!.includes(path), unix!.message);
    assert.equal(free!.ok, true, "an allowed address still works in the same process");
    assert.deepEqual(readdirSync(t.dir), [], "nothing was created");
  } finally { t.done(); }
}));
