/**
 * `drain(server)`: stop accepting, let every request in flight finish, close keep-alive
 * connections without racing a client's next request, and resolve when no connection is left
 * (or the grace period is over).
 *
 * Why not `server.close()`: for HTTP it closes idle keep-alive connections at once, and a client
 * that is sending its next request on one of them at that moment gets ECONNRESET (the reason
 * Node's cluster `disconnect()` loses requests under keep-alive load). Instead:
 *  - the listening handle is closed at the net level only, so nothing else is touched; the
 *    socket itself lives on in the registry and in the successor, whose backlog keeps filling;
 *  - every response from now on, and every one not yet started, carries `Connection: close`,
 *    so busy connections end cleanly after their next response;
 *  - a connection is closed for idleness only after it read nothing for a whole `idleMs` tick
 *    (as Node's own keep-alive timeout does, just shorter);
 *  - at `graceMs`, whatever is left is destroyed.
 * @module
 */
import net from "node:net";

/** Options of {@link drain}. */
export interface DrainOptions {
  /** After this many ms, remaining connections are destroyed and the promise resolves. @default 10_000 */
  graceMs?: number;
  /** An HTTP connection that has read nothing for this long, with no request in flight, is closed. @default 1_000 */
  idleMs?: number;
}

/** Default of {@link DrainOptions.graceMs}. */
export const DEFAULT_GRACE_MS = 10_000;
/** Default of {@link DrainOptions.idleMs}. */
export const DEFAULT_IDLE_MS = 1_000;

/** What Node's HTTP server keeps per connection (lib/_http_server.js ConnectionsList entries). */
interface HttpConn { socket?: net.Socket & { _httpMessage?: { headersSent: boolean; finished: boolean; shouldKeepAlive: boolean } | null } }
interface ConnList { all(): HttpConn[]; idle(): HttpConn[] }
type HttpLike = net.Server & { closeAllConnections(): void; closeIdleConnections(): void };

const draining = new WeakMap<net.Server, Promise<void>>();

function isHttp(server: net.Server): server is HttpLike {
  return typeof (server as Partial<HttpLike>).closeAllConnections === "function";
}

/**
 * Node's list of HTTP connections, under the symbol `http.server.connections` (Node ≥ 18.2).
 * Not public API: read the same way as the fd of a dgram socket in the registry, and everything
 * still works without it (idle connections then end by Node's keep-alive timeout or at graceMs).
 */
function connections(server: net.Server): ConnList | undefined {
  for (const sym of Object.getOwnPropertySymbols(server)) {
    if (sym.description !== "http.server.connections") continue;
    const list = (server as unknown as Record<symbol, Partial<ConnList> | undefined>)[sym];
    if (typeof list?.all === "function" && typeof list.idle === "function") return list as ConnList;
  }
  return undefined;
}

/** Makes every response not yet started end its connection. */
function closeAfterResponses(server: net.Server, list: ConnList | undefined): void {
  server.prependListener("request", (_req: unknown, res: { shouldKeepAlive: boolean }) => { res.shouldKeepAlive = false; });
  for (const c of list?.all() ?? []) {
    const res = c.socket?._httpMessage;
    if (res && !res.headersSent) res.shouldKeepAlive = false;
  }
}

/** Closes connections that read nothing since the previous tick and wait for no response. */
function reapIdle(list: ConnList, seen: WeakMap<net.Socket, number>): void {
  const idle = new Set(list.idle().map((c) => c.socket));
  for (const c of list.all()) {
    const sock = c.socket;
    if (!sock) continue;
    const before = seen.get(sock);
    seen.set(sock, sock.bytesRead);
    const busy = sock._httpMessage && !sock._httpMessage.finished;
    if (idle.has(sock) && !busy && before === sock.bytesRead) sock.destroy();
  }
}

function openConnections(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((err, n) => resolve(err ? 0 : n)));
}

/**
 * Stops `server` from accepting and resolves once its connections have finished (HTTP
 * keep-alive included, see the module notes), or after `graceMs` when the rest is destroyed.
 * Works for `net`, `http` and `https` servers; calling it again returns the same promise.
 * The listening socket stays open in the fd registry (and in a successor), so connections keep
 * queueing in the kernel backlog for whoever accepts next.
 */
export function drain(server: net.Server, opts: DrainOptions = {}): Promise<void> {
  const existing = draining.get(server);
  if (existing) return existing;
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  const idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
  const http = isHttp(server);
  const list = http ? connections(server) : undefined;
  const p = new Promise<void>((resolve) => {
    let done = false;
    const seen = new WeakMap<net.Socket, number>();
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(tick);
      clearTimeout(deadline);
      // Node's own close also stops the HTTP timeout checker; nothing is left for it to touch.
      if (http) server.close(() => undefined);
      resolve();
    };
    const check = async () => {
      if (list) reapIdle(list, seen);
      if ((await openConnections(server)) === 0) finish();
    };
    const tick = setInterval(() => void check(), idleMs);
    const deadline = setTimeout(() => {
      if (http) server.closeAllConnections();
      finish();
    }, graceMs);
    if (http) closeAfterResponses(server, list);
    if (server.listening) {
      // net-level close: stop accepting, touch no connection; the callback runs when none is left.
      net.Server.prototype.close.call(server, () => finish());
    } else {
      void check();
    }
    if (list) for (const c of list.all()) if (c.socket) seen.set(c.socket, c.socket.bytesRead);
  });
  draining.set(server, p);
  return p;
}
