// A Unix datagram control socket: answers "ping", "stats" and "time" with one datagram each.
// Inherits the socket named "ctl" (ListenDatagram=/path in a socket unit, or
// `sdkit run -d -l /path --fdname ctl`), or creates it at SOCKET_PATH. Node has no Unix
// datagram sockets; sdkit's UnixDatagramSocket works like dgram.Socket.
import * as sd from "sdkit";

const path = process.env.SOCKET_PATH ?? "/tmp/sdkit-unixgram.sock";
let received = 0;

// credentials: the kernel tells us who sent each datagram (SO_PASSCRED).
const socket = await sd.listenUnixgram({ name: "ctl", path, credentials: true });

socket.on("message", (msg, rinfo) => {
  received++;
  const command = msg.toString().trim();
  const answer =
    command === "ping" ? `pong (you are pid ${rinfo.pid})` :
    command === "stats" ? JSON.stringify({ pid: process.pid, received }) :
    command === "time" ? new Date().toISOString() :
    `unknown command ${JSON.stringify(command)}; try ping, stats or time`;
  // A sender that did not bind has no address to answer to.
  if (rinfo.path === "") return;
  try {
    socket.send(answer, rinfo.path);
  } catch (e) {
    // ERR_SD_WOULD_BLOCK (the peer's queue is full), ECONNREFUSED (it is gone): drop the answer.
    console.error(`answer to ${rinfo.path} dropped: ${e.message}`);
  }
});
socket.on("error", (e) => console.error(`socket error: ${e.message}`));
console.log(`pid ${process.pid} answering on unix datagram socket ${path}`);

sd.onShutdown(() => new Promise((resolve) => socket.close(resolve)));

await sd.ready(`answering on ${path}`).catch((e) => {
  if (e.code !== "ERR_SD_NO_NOTIFY_SOCKET") throw e;
});
