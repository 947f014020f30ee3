#!/usr/bin/python3
"""An independent sd_notify receiver (no sdkit code): binds ADDRESS (/path or @abstract) with
SO_PASSCRED, and prints one JSON line per datagram: the assignments (split on "\\n", the wire
format), the raw text, SCM_CREDENTIALS, recvmsg flags, and for each SCM_RIGHTS fd what it is
and whether it is usable (fstat, socket family/type/address, readable bytes of pipes/files).

By default every received fd is closed after it was described (BARRIER semantics). With
--keep-fds they stay open until exit, so a barrier never completes.

Usage: notify_receiver.py ADDRESS [--keep-fds] [--count N]
The first line is {"event": "listening", "address": ADDRESS}.
"""
import array, base64, fcntl, json, os, socket, stat, struct, sys

addr_arg = sys.argv[1]
keep = "--keep-fds" in sys.argv
count = int(sys.argv[sys.argv.index("--count") + 1]) if "--count" in sys.argv else 0

addr = "\0" + addr_arg[1:] if addr_arg.startswith("@") else addr_arg
if not addr_arg.startswith("@"):
    try:
        os.unlink(addr_arg)
    except FileNotFoundError:
        pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(addr)
print(json.dumps({"event": "listening", "address": addr_arg}), flush=True)

SCM_CREDENTIALS = 2
FDSIZE = array.array("i").itemsize
kept = []


def describe(fd):
    st = os.fstat(fd)
    mode = st.st_mode
    kind = ("socket" if stat.S_ISSOCK(mode) else "fifo" if stat.S_ISFIFO(mode)
            else "file" if stat.S_ISREG(mode) else "chardev" if stat.S_ISCHR(mode) else oct(mode))
    d = {"fd": fd, "kind": kind, "ino": st.st_ino, "dev": st.st_dev,
         "cloexec": bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)}
    if kind == "socket":
        t = socket.socket(fileno=os.dup(fd))
        try:
            d["family"] = t.family.name
            d["type"] = t.type.name
            name = t.getsockname()
            if isinstance(name, bytes):
                name = "@" + name[1:].decode(errors="replace") if name[:1] == b"\0" else name.decode(errors="replace")
            d["sockname"] = name if isinstance(name, str) else list(name)
            d["listening"] = bool(t.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
        finally:
            t.close()
    elif kind == "fifo":
        fl = fcntl.fcntl(fd, fcntl.F_GETFL)
        if fl & os.O_ACCMODE == os.O_RDONLY:
            fcntl.fcntl(fd, fcntl.F_SETFL, fl | os.O_NONBLOCK)
            try:
                d["data"] = os.read(fd, 4096).decode(errors="replace")
            except BlockingIOError:
                d["data"] = ""
            fcntl.fcntl(fd, fcntl.F_SETFL, fl)
        else:
            d["writable"] = True
    elif kind == "file":
        try:
            d["data"] = os.pread(fd, 4096, 0).decode(errors="replace")
        except OSError as e:
            d["error"] = e.strerror
    return d


n = 0
while count == 0 or n < count:
    data, anc, flags, _ = s.recvmsg(4097, socket.CMSG_SPACE(struct.calcsize("3i")) + socket.CMSG_SPACE(768 * FDSIZE))
    n += 1
    creds, fds = None, []
    for level, typ, cdata in anc:
        if level == socket.SOL_SOCKET and typ == SCM_CREDENTIALS:
            creds = struct.unpack("3i", cdata[:12])
        elif level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            a = array.array("i")
            a.frombytes(cdata[: len(cdata) - (len(cdata) % FDSIZE)])
            fds.extend(a)
    text = data.decode("utf-8", errors="replace")
    assignments = []
    for line in text.split("\n"):
        if line == "":
            continue
        k, sep, v = line.partition("=")
        assignments.append([k, v] if sep else [line, None])
    out = {"event": "message", "n": n, "raw": base64.b64encode(data).decode(), "text": text,
           "assignments": assignments, "flags": flags,
           "truncated": bool(flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC)),
           "pid": creds[0] if creds else None, "uid": creds[1] if creds else None,
           "gid": creds[2] if creds else None, "fds": []}
    for fd in fds:
        try:
            out["fds"].append(describe(fd))
        except OSError as e:
            out["fds"].append({"fd": fd, "error": e.strerror})
        if keep:
            kept.append(fd)
        else:
            os.close(fd)
    print(json.dumps(out), flush=True)
