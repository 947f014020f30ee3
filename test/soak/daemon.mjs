// The soak daemon: an HTTP server built the documented way (listenTCP + onShutdown +
// signalParentTermination), replaced on SIGUSR2. Plain ESM over the compiled dist/ so that a
// generation starts in a fraction of a second. Every generation prints JSON lines on the shared
// stdout: {ev:"ready", pid, gen, fds, rss} once serving, {ev:"replaced"|"replace-failed"} and
// {ev:"exit"} as it hands over.
import http from "node:http";
import { readdirSync } from "node:fs";
import * as sd from "../../dist/index.js";

const gen = Number(process.env.SOAK_GEN ?? "1");
const log = (o) => process.stdout.write(JSON.stringify({ pid: process.pid, gen, ...o }) + "\n");
const web = await sd.listenTCP({ name: "web", host: "127.0.0.1", port: Number(process.env.SOAK_PORT ?? 0), server: http.createServer((_q, s) => s.end(String(process.pid))) });
sd.onShutdown({ servers: [web], graceMs: 5000, beforeExit: () => log({ ev: "exit" }) });
process.on("SIGUSR2", () => {
  sd.replaceProcess("SIGTERM", { SOAK_GEN: String(gen + 1) }).then(
    (child) => log({ ev: "replaced", child }),
    (e) => log({ ev: "replace-failed", code: e.code, message: e.message }),
  );
});
sd.signalParentTermination();
// Measured once serving, after the parent was told: what every generation carries.
setImmediate(() => log({ ev: "ready", port: web.address().port, fds: readdirSync("/proc/self/fd").length - 1, rss: process.memoryUsage().rss }));
