// An Express app under systemd: socket activation, READY=1, the watchdog, status text, and a
// graceful stop. The app itself is ordinary Express; sdkit only starts and stops it.
import express from "express";
import * as sd from "sdkit";

const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 8081);

let served = 0;
const app = express();
app.use((req, res, next) => { served++; next(); });
app.get("/", (req, res) => res.json({ hello: "express", pid: process.pid }));
app.get("/health", (req, res) => res.json({ ok: true, served }));

// listenTCP takes the app as `server` (it wraps it in http.createServer) and starts it on the
// inherited "web" socket, or on a new socket at HOST:PORT.
const server = await sd.listenTCP({ name: "web", host, port, server: app });
const { port: bound } = server.address();
console.log(`pid ${process.pid} serving http://${host}:${bound}/`);

sd.onShutdown({ servers: [server], graceMs: 5000 });

// WatchdogSec= in the unit: ping at half the interval for as long as the event loop turns.
// A no-op without a watchdog; it stops by itself on STOPPING=1 (onShutdown sends it).
sd.startWatchdog();

// STATUS= every few seconds: shown by `systemctl status express-app`.
setInterval(() => { sd.status(`${served} requests served`).catch(() => {}); }, 5000).unref();

await sd.ready(`serving on port ${bound}`).catch((e) => {
  if (e.code !== "ERR_SD_NO_NOTIFY_SOCKET") throw e;
});
