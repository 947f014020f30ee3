// Zero-downtime replacement on SIGHUP: `systemctl reload` (ExecReload=kill -HUP $MAINPID) starts
// a fresh copy of this program, which inherits the listening socket and says when it is ready;
// then systemd is told the new main pid, and the old process stops accepting, finishes its
// requests and exits. No connection is refused and no request fails. Deploy new code, reload.
import http from "node:http";
import * as sd from "sdkit";

const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 8083);
const started = new Date().toISOString();

const server = http.createServer((req, res) => {
  res.setHeader("content-type", "text/plain");
  res.end(`pid ${process.pid}, started ${started}\n`);
});
// Inherited from systemd or from the previous process (named "web"), else created.
await sd.listenTCP({ name: "web", host, port, server });

// SIGTERM/SIGINT: drain and exit. SIGHUP: replace this process by a new copy (reload: true:
// RELOADING=1 while the new copy starts, READY=1 and MAINPID=<new pid> once it is ready).
sd.onShutdown({
  servers: [server],
  replaceOn: "SIGHUP",
  onError: (e) => console.error(`replacement failed, still serving: ${e.message}`),
});

const { port: bound } = server.address();
console.log(`pid ${process.pid} serving http://${host}:${bound}/`);

// A copy started by a replacement tells its predecessor it is ready (the predecessor then does
// the systemd side). The first process tells systemd itself.
if (!sd.signalParentTermination()) {
  await sd.ready(`serving on port ${bound}`).catch((e) => {
    if (e.code !== "ERR_SD_NO_NOTIFY_SOCKET") throw e;
  });
}
