// UDP echo: answers every datagram with the same bytes, prefixed by "echo: ".
// Inherits the UDP socket named "echo" (ListenDatagram= in a socket unit, or
// `sdkit run -d -l ... --fdname echo`), or binds HOST:PORT (default 127.0.0.1:9053) itself.
import * as sd from "sdkit";

const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 9053);

const socket = await sd.listenUDP({ name: "echo", host, port });
socket.on("message", (msg, rinfo) => {
  socket.send(Buffer.concat([Buffer.from("echo: "), msg]), rinfo.port, rinfo.address);
});
const a = socket.address();
console.log(`pid ${process.pid} echoing on udp ${a.address}:${a.port}`);

// SIGTERM/SIGINT: STOPPING=1, close the socket, exit.
sd.onShutdown(() => new Promise((resolve) => socket.close(resolve)));

await sd.ready(`echoing on udp port ${a.port}`).catch((e) => {
  if (e.code !== "ERR_SD_NO_NOTIFY_SOCKET") throw e;
});
