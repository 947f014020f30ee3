/**
 * `sdkit activate --accept`: one child per connection, like `Accept=yes` socket units. The
 * connection is the child's fd 3 with LISTEN_FDS=1, LISTEN_FDNAMES=connection (the real
 * manager's name; `--fdname` overrides it per listener), REMOTE_ADDR and REMOTE_PORT.
 *
 * Node cannot fork and exec, so each child is started through `/bin/sh -c 'LISTEN_PID=$$ exec …'`:
 * the shell sets LISTEN_PID to its own pid and execs the program, which keeps that pid.
 * @module
 */
import net from "node:net";
import { spawn, type ChildProcess } from "node:child_process";
import { native, K } from "../native/binding.js";
import { applySetenv, baseEnv, envObject, resolveFdnames } from "./child-env.js";
import type { ActivateConfig } from "./activate.js";

/** The shell one-liner that gives the exec'd program LISTEN_PID = its own pid. */
export const LISTEN_PID_SHIM = 'LISTEN_PID=$$ exec "$0" "$@"';

/** systemd reports IPv4-mapped IPv6 peers as plain IPv4 (sockaddr_pretty with translate_ipv6). */
export function plainAddress(addr: string): string {
  return addr.startsWith("::ffff:") && net.isIPv4(addr.slice(7)) ? addr.slice(7) : addr;
}

function endpoint(addr: string | undefined, port: number | undefined): string {
  if (addr === undefined) return "n/a";
  const a = plainAddress(addr);
  return net.isIPv6(a) ? `[${a}]:${port}` : `${a}:${port}`;
}

/** Accepts on every fd until a termination signal; never resolves on its own. */
export function runAcceptLoop(cfg: ActivateConfig, fds: number[], fdnames: string[], log: (s: string) => void): Promise<number> {
  const { names, warning } = resolveFdnames(fdnames, fds.length);
  if (warning) log(warning);
  const children = new Set<ChildProcess>();
  const servers: net.Server[] = [];
  const joined = cfg.command.join(" ");

  const onConnection = (sock: net.Socket, index: number) => {
    log(`Connection from ${endpoint(sock.remoteAddress, sock.remotePort)} to ${endpoint(sock.localAddress, sock.localPort)}`);
    // libuv accepted it non-blocking; the program gets a blocking socket, as from accept4(…, 0).
    const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd === "number" && fd >= 0) {
      const fl = native().getFlags(fd, 1);
      if (fl >= 0) native().setFl(fd, fl & ~K().O_NONBLOCK!);
    }
    const env = baseEnv(process.env, cfg.inheritEnv);
    env.set("LISTEN_FDS", "1");
    env.set("LISTEN_FDNAMES", names?.[index] ?? "connection");
    if (sock.remoteAddress !== undefined) {
      env.set("REMOTE_ADDR", plainAddress(sock.remoteAddress));
      env.set("REMOTE_PORT", String(sock.remotePort));
    }
    applySetenv(env, cfg.setenv, process.env);
    let child: ChildProcess;
    try {
      child = spawn("/bin/sh", ["-c", LISTEN_PID_SHIM, ...cfg.command], { env: envObject(env), stdio: ["inherit", "inherit", "inherit", sock] });
    } catch (e) {
      log(`Failed to spawn ${cfg.command[0]} (${joined}): ${(e as Error).message}`);
      sock.destroy();
      return;
    }
    sock.destroy(); // the child has its own copy; ours would keep the connection open
    const pid = child.pid;
    child.on("error", (e) => log(`Failed to spawn ${cfg.command[0]} (${joined}): ${e.message}`));
    if (pid === undefined) return;
    children.add(child);
    log(`Spawned ${cfg.command[0]} (${joined}) as PID ${pid}.`);
    child.on("exit", (code, signal) => {
      children.delete(child);
      log(`Child ${pid} died with code ${code ?? signal}`);
    });
  };

  return new Promise((resolve) => {
    fds.forEach((fd, i) => {
      const server = net.createServer({ pauseOnConnect: true }, (s) => onConnection(s, i));
      server.on("error", (e) => {
        log(`Failed to accept connection on fd:${3 + i}: ${e.message}`);
        for (const s of servers) s.close();
        for (const c of children) c.kill("SIGTERM");
        resolve(1);
      });
      server.listen({ fd });
      servers.push(server);
    });
    const stop = (sig: NodeJS.Signals) => {
      for (const s of servers) s.close();
      // systemd-socket-activate's children die with it (PR_SET_PDEATHSIG); ours get the signal.
      for (const c of children) c.kill(sig);
      process.removeAllListeners(sig);
      process.kill(process.pid, sig);
    };
    for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(sig, () => stop(sig));
  });
}
