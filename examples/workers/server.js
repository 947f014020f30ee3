// Workers: one primary process holds the listening socket; WORKERS copies of this program accept
// on it directly (the kernel spreads the connections, nothing is proxied). SIGHUP (systemctl
// reload) replaces the workers one by one, each new one ready before an old one stops, so the
// service always has WORKERS processes accepting. The primary itself never restarts.
import http from "node:http";
import * as sd from "sdkit";

const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 8084);
const count = Number(process.env.WORKERS ?? 2);

if (sd.workerSlot() === undefined) await primary();
else await worker(sd.workerSlot());

async function primary() {
  // Inherit (or create) the socket, keep it in the registry, but do not accept here.
  const holder = await sd.listenTCP({ name: "web", host, port });
  const { port: bound } = holder.address();
  holder.close(); // the exported copy stays open and goes to every worker

  // Workers get the socket at fd 3 and SDKIT_WORKER=<slot>, but no NOTIFY_SOCKET: only the
  // primary speaks for the service.
  const workers = await sd.startWorkers(count);
  console.log(`primary pid ${process.pid}: ${count} workers on http://${host}:${bound}/ (pids ${workers.pids.join(", ")})`);
  workers.on("exit", (slot, pid, code, signal) => console.error(`worker ${slot} (pid ${pid}) exited (${signal ?? code}); starting a new one`));

  let reloading = false;
  process.on("SIGHUP", async () => {
    if (reloading) return;
    reloading = true;
    try {
      await sd.reloading("replacing workers").catch(() => {});
      await workers.replace();
      console.log(`workers replaced: pids ${workers.pids.join(", ")}`);
    } catch (e) {
      console.error(`rolling replacement stopped: ${e.message}`);
    } finally {
      reloading = false;
      await sd.ready(`${count} workers: ${workers.pids.join(", ")}`).catch(() => {});
    }
  });
  const stop = async () => {
    await sd.stopping().catch(() => {});
    await workers.stop(); // SIGTERM each worker: they drain; SIGKILL after the grace period
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);

  await sd.ready(`${count} workers: ${workers.pids.join(", ")}`).catch((e) => {
    if (e.code !== "ERR_SD_NO_NOTIFY_SOCKET") throw e;
  });
}

async function worker(slot) {
  const server = http.createServer((req, res) => {
    res.setHeader("content-type", "text/plain");
    res.end(`worker ${slot}, pid ${process.pid}\n`);
  });
  await sd.listenTCP({ name: "web", host, port, server }); // always inherited from the primary
  sd.onShutdown({ servers: [server] });                   // SIGTERM from the primary: drain, exit
  sd.signalParentTermination();                           // tell the primary this worker is ready
}
