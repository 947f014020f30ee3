// HTTP hello daemon: serves on the socket the supervisor passed as "web" (systemd socket unit,
// `sdkit run`, `systemd-socket-activate`) or, when started by hand, creates it itself.
import http from "node:http";
import * as sd from "sdkit";

const { count, names } = sd.listenFdsWithNames();
console.log(`[pid ${process.pid}] inherited ${count} fd(s)${count ? `: ${names.join(", ")}` : " (not socket-activated)"}`);

const server = http.createServer((req, res) => {
  res.setHeader("content-type", "text/plain");
  res.end(`hello from pid ${process.pid}\n`);
});
await sd.listenTCP({ name: "web", host: process.env.HOST ?? "127.0.0.1", port: Number(process.env.PORT ?? 8080), server });
const a = server.address();
console.log(`[pid ${process.pid}] serving http://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}/`);

// Tell the supervisor we are ready (a no-op when nobody listens for notifications).
await sd.ready({ status: `serving on port ${a.port}` }).catch((e) => {
  if (e.code !== "ERR_SD_NO_NOTIFY_SOCKET") throw e;
});
// Finish in-flight requests on SIGTERM, then exit.
process.on("SIGTERM", () => {
  sd.stopping().catch(() => {});
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
