// FD-store restart: a line-echo TCP service whose clients stay connected across restarts.
//
// On SIGTERM (e.g. `systemctl restart`), the service puts its listening socket and every open
// connection into the service manager's FD store (FDSTORE=1), then exits. The next instance
// gets them back as inherited fds: the listener under "web", each connection under "conn", and
// carries on talking to the same clients on the same TCP connections.
// Needs FileDescriptorStoreMax= on the unit (or `sdkit run --fdstore-max N`).
import net from "node:net";
import * as sd from "sdkit";

const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 8082);
const connections = new Set();

function serve(socket, resumed) {
  connections.add(socket);
  sd.exportFd("conn", socket); // tracked: handed to the FD store at shutdown
  socket.on("close", () => { connections.delete(socket); sd.forget(socket); });
  socket.on("error", () => {});
  socket.setEncoding("utf8");
  let partial = "";
  socket.on("data", (chunk) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop();
    for (const line of lines) socket.write(`${process.pid}: ${line}\n`);
  });
  socket.write(resumed ? `resumed by pid ${process.pid}\n` : `hello from pid ${process.pid}\n`);
}

// The listener: from the FD store after a restart, else new.
const server = net.createServer((socket) => serve(socket, false));
await sd.listenTCP({ name: "web", host, port, server });

// The connections a previous instance stored: connected TCP sockets, not listeners.
let resumed = 0;
for (let c; (c = sd.fileWith("conn", sd.isListening(false))); resumed++) {
  serve(new net.Socket({ fd: c.fd, readable: true, writable: true }), true);
}
// The manager still holds its copies; drop them, or a connection we close would stay open there.
if (resumed > 0) await sd.fdStoreRemove("conn");

const { port: bound } = server.address();
console.log(`pid ${process.pid} serving tcp ${host}:${bound}, ${resumed} connection(s) resumed`);

let handingOff = false;
async function handOff() {
  if (handingOff) return;
  handingOff = true;
  server.close(); // stop accepting here; the socket itself stays open in sdkit's registry
  try {
    // Every exported fd (the listener and each connection) goes to the store, then STOPPING=1.
    await sd.notify({ STOPPING: 1, STATUS: `handing ${connections.size} connection(s) over` }, { fds: true });
    await sd.barrier(); // the manager has them all before this process exits
  } catch (e) {
    if (e.code !== "ERR_SD_NO_NOTIFY_SOCKET") console.error(`could not store the fds: ${e.message}`);
  }
  process.exit(0);
}
process.on("SIGTERM", handOff);
process.on("SIGINT", handOff);

// READY=1, and the listener into the store right away: even after a crash (kill -9) the next
// instance gets the same socket, and clients queue in its backlog meanwhile.
const listener = sd.activeFds().filter((f) => f.name === "web");
await sd.notify({ READY: 1, STATUS: `serving port ${bound}, ${resumed} connection(s) resumed` }, { fds: listener }).catch((e) => {
  if (e.code !== "ERR_SD_NO_NOTIFY_SOCKET") throw e;
});
