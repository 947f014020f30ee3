// HTTP hello: socket activation + sd_notify.
//
// Serves on the socket its supervisor passed under the name "web" (a systemd socket unit,
// `sdkit run -l ... --fdname web`, `systemd-socket-activate --fdname=web`) or, started by hand,
// on a socket it creates itself at HOST:PORT (default 127.0.0.1:8080). Tells the supervisor
// when it is ready, and finishes in-flight requests when stopped.
import http from "node:http";
import * as sd from "sdkit";

const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 8080);

const server = http.createServer((req, res) => {
  res.setHeader("content-type", "text/plain");
  res.end(`hello from pid ${process.pid}\n`);
});

// The inherited socket named "web" (it must be on HOST:PORT), or a new one there.
await sd.listenTCP({ name: "web", host, port, server });
const { count } = sd.listenFdsWithNames();
const { address, port: bound } = server.address();
const url = `http://${address.includes(":") ? `[${address}]` : address}:${bound}/`;
console.log(`pid ${process.pid} serving ${url} (${count > 0 ? "socket from the supervisor" : "socket created here"})`);
console.log(`try: curl ${url}`);

// Stop: STOPPING=1, stop accepting, finish in-flight requests, exit.
sd.onShutdown({ servers: [server] });

// READY=1 with a status line for `systemctl status`. Without a supervisor there is nobody to tell.
await sd.ready(`serving ${url}`).catch((e) => {
  if (e.code !== "ERR_SD_NO_NOTIFY_SOCKET") throw e;
});
