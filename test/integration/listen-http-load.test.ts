// http.createServer and an Express app, each served by one listenTCP line on an inherited
// socket (passed at fd 3 with LISTEN_FDS/LISTEN_FDNAMES/LISTEN_PID), take 10,000 requests each
// from autocannon without an error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { native } from "../../src/native/binding.js";
import { portOf, rawTcpListener, scenario } from "../fixtures/listen-util.js";
import { TSX, fixture, run, spawnWithFds, waitForLine } from "../helpers/spawn.js";

const REQUESTS = 10_000;

/** The part of autocannon's programmatic API used here (the package ships no types). */
interface CannonResult { errors: number; timeouts: number; mismatches: number; non2xx: number; "2xx": number }
const autocannon = createRequire(import.meta.url)("autocannon") as (opts: {
  url: string; amount: number; connections: number; expectBody?: string;
}) => Promise<CannonResult>;

for (const kind of ["http", "express"] as const) {
  test(`${kind}: 10,000 requests through an inherited listener, no errors`, scenario(async () => {
    const fd = rawTcpListener("127.0.0.1", 0, 511);
    const port = portOf(fd);
    const child = spawnWithFds([...TSX, fixture("listen-http.ts"), kind], { fds: [fd], names: ["web"] });
    native().close(fd); // the child has its copy; the kernel socket lives on in the child only
    const done = run(child, 120_000);
    try {
      const ready = JSON.parse(await waitForLine(child, /"ready":true/, 60_000)) as { port: number; active: string[] };
      assert.equal(ready.port, port, "the daemon serves the inherited socket, not a new one");
      assert.deepEqual(ready.active, ["web"]);
      const result = await autocannon({
        url: `http://127.0.0.1:${port}/`,
        amount: REQUESTS,
        connections: 8,
        expectBody: kind === "express" ? "hello from express" : "hello from http",
      });
      assert.equal(result.errors, 0, "connection errors");
      assert.equal(result.timeouts, 0);
      assert.equal(result.mismatches, 0, "bodies that differ");
      assert.equal(result.non2xx, 0);
      assert.equal(result["2xx"], REQUESTS);
    } finally {
      child.kill("SIGTERM");
      const r = await done;
      assert.equal(r.signal === null ? r.code : 0, 0, r.stderr);
    }
  }));
}
