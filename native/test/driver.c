/* Exercises every function of native/src/sys.c, success and error paths, with real fds.
 * Built and run under valgrind by run-valgrind.sh: memcheck catches uninitialised bytes in
 * the control buffers we hand to sendmsg, out-of-bounds CMSG walks and leaks; the driver
 * itself checks results and that no fd is left open. Exit status: 0 = all checks passed. */
#include "../src/sys.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int failures, checks;
#define EXPECT(cond, ...)                                                        \
  do {                                                                           \
    checks++;                                                                    \
    if (!(cond)) {                                                               \
      failures++;                                                                \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
      fprintf(stderr, __VA_ARGS__);                                              \
      fputc('\n', stderr);                                                       \
    }                                                                            \
  } while (0)
#define EQ(got, want) EXPECT((long)(got) == (long)(want), "got %ld, want %ld", (long)(got), (long)(want))

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
  if (d) closedir(d);
  return n - 1; /* the directory's own fd */
}
static int is_cloexec(int fd) { return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

/* An abstract datagram socket bound to "\0sdkit-drv-<pid>-<tag>" (exact length), with SO_PASSCRED. */
static int bound_dgram(const char *tag, sdk_addr *a) {
  char name[64];
  int l = snprintf(name, sizeof name, "%csdkit-drv-%d-%s", 0, (int)getpid(), tag);
  EQ(sdk_addr_unix(a, name, (size_t)l), 0);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  EXPECT(fd >= 0, "socket");
  EQ(bind(fd, (struct sockaddr *)&a->ss, a->len), 0);
  EQ(sdk_setsockopt_int(fd, SOL_SOCKET, SO_PASSCRED, 1), 0);
  return fd;
}

static void addresses(void) {
  sdk_addr a;
  char big[200];
  memset(big, 'p', sizeof big);
  EQ(sdk_addr_unix(&a, "", 0), -EINVAL);
  EQ(sdk_addr_unix(&a, big, 109), -EINVAL); /* sun_path holds 108 bytes */
  EQ(sdk_addr_unix(&a, big, 108), 0);
  EQ(a.len, offsetof(struct sockaddr_un, sun_path) + 108);
  EQ(sdk_addr_unix(&a, "/tmp/x", 7), 0); /* a filesystem path carries its NUL */
  EQ(a.len, offsetof(struct sockaddr_un, sun_path) + 7);
  EQ(((struct sockaddr_un *)&a.ss)->sun_family, AF_UNIX);
  EQ(sdk_addr_unix(&a, "\0abs", 4), 0); /* abstract: exact length, no padding */
  EQ(a.len, offsetof(struct sockaddr_un, sun_path) + 4);
  EQ(sdk_addr_inet(&a, AF_INET, "127.0.0.1", 80), 0);
  EQ(a.len, sizeof(struct sockaddr_in));
  EQ(ntohs(((struct sockaddr_in *)&a.ss)->sin_port), 80);
  EQ(sdk_addr_inet(&a, AF_INET6, "::1", 65535), 0);
  EQ(a.len, sizeof(struct sockaddr_in6));
  EQ(sdk_addr_inet(&a, AF_INET, "::1", 1), -EINVAL);
  EQ(sdk_addr_inet(&a, AF_INET, "999.0.0.1", 1), -EINVAL);
  EQ(sdk_addr_inet(&a, AF_INET, "127.0.0.1", -1), -EINVAL);
  EQ(sdk_addr_inet(&a, AF_INET, "127.0.0.1", 65536), -EINVAL);
  EQ(sdk_addr_inet(&a, AF_UNIX, "127.0.0.1", 1), -EAFNOSUPPORT);
}

static void fd_ops(void) {
  int p[2];
  EQ(sdk_pipe2(p, O_CLOEXEC), 0);
  EQ(sdk_pipe2(p + 0, -1), -EINVAL);
  int d = sdk_dup_cloexec(p[0], 100);
  EXPECT(d >= 100 && is_cloexec(d), "dup %d", d);
  EQ(sdk_dup_cloexec(-1, 3), -EBADF);
  EQ(sdk_dup_cloexec(p[0], -1), -EINVAL);
  EQ(sdk_set_cloexec(d, 0), 0);
  EQ(is_cloexec(d), 0);
  EQ(sdk_set_cloexec(d, 0), 0); /* no change needed */
  EQ(sdk_set_cloexec(d, 1), 0);
  EQ(is_cloexec(d), 1);
  EQ(sdk_set_cloexec(-1, 1), -EBADF);
  EQ(sdk_getsockopt_int(p[0], SOL_SOCKET, SO_TYPE), -ENOTSOCK);
  EQ(sdk_getsockopt_int(-1, SOL_SOCKET, SO_TYPE), -EBADF);
  EQ(sdk_setsockopt_int(-1, SOL_SOCKET, SO_PASSCRED, 1), -EBADF);
  sdk_addr a;
  EQ(sdk_sockname(p[0], 0, &a), -ENOTSOCK);
  EQ(sdk_sockname(-1, 1, &a), -EBADF);
  EQ(sdk_close(d), 0);
  EQ(sdk_close(d), -EBADF);
  EQ(sdk_close(p[0]), 0);
  EQ(sdk_close(p[1]), 0);
}

static void sockets(void) {
  sdk_addr a, got;
  int s = bound_dgram("names", &a);
  EQ(sdk_getsockopt_int(s, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
  EQ(sdk_getsockopt_int(s, SOL_SOCKET, SO_ACCEPTCONN), 0);
  EQ(sdk_getsockopt_int(s, SOL_SOCKET, SO_PASSCRED), 1);
  EQ(sdk_getsockopt_int(s, SOL_SOCKET, 99999), -ENOPROTOOPT);
  EQ(sdk_sockname(s, 0, &got), 0);
  EQ(got.len, a.len); /* the kernel reports the exact-length abstract name back */
  EXPECT(memcmp(&got.ss, &a.ss, a.len) == 0, "abstract name differs");
  EQ(sdk_sockname(s, 1, &got), -ENOTCONN);
  int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EQ(sdk_addr_inet(&a, AF_INET, "127.0.0.1", 0), 0);
  EQ(bind(t, (struct sockaddr *)&a.ss, a.len), 0);
  EQ(listen(t, 4), 0);
  EQ(sdk_getsockopt_int(t, SOL_SOCKET, SO_ACCEPTCONN), 1);
  EQ(sdk_sockname(t, 0, &got), 0);
  EXPECT(ntohs(((struct sockaddr_in *)&got.ss)->sin_port) != 0, "bound port");
  /* fdinfo: everything the file tests ask, for a listener, a plain socket and a non-socket. */
  sdk_fdfacts fi;
  EQ(sdk_fdinfo(t, 1, &fi), 1);
  EXPECT((fi.mode & S_IFMT) == S_IFSOCK, "fdinfo mode");
  EQ(fi.type, SOCK_STREAM);
  EQ(fi.acceptconn, 1);
  EQ(fi.reuseport, 0);
  EQ(fi.name_rc, 0);
  EQ(((struct sockaddr *)&fi.name.ss)->sa_family, AF_INET);
  EQ(sdk_fdinfo(s, 0, &fi), 1);
  EQ(fi.acceptconn, 0);
  EQ(sdk_fdinfo(0, 0, &fi) >= 0, 1);
  EQ(sdk_fdinfo(-1, 0, &fi), -EBADF);
  EQ(sdk_close(t), 0);
  EQ(sdk_close(s), 0);
}

static void messages(void) {
  sdk_addr ra, missing;
  int rx = bound_dgram("rx", &ra);
  int tx = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  static sdk_recv r; /* large: ~1 KB of fds */
  char buf[256];

  EQ(sdk_recvmsg(rx, buf, sizeof buf, &r), -EAGAIN); /* empty queue, never blocks */
  EQ(sdk_recvmsg(-1, buf, sizeof buf, &r), -EBADF);
  EQ(sdk_sendmsg(-1, "x", 1, &ra, NULL, 0, NULL, 0), -EBADF);
  EQ(sdk_addr_unix(&missing, "\0sdkit-drv-nobody-listens", 25), 0);
  EQ(sdk_sendmsg(tx, "x", 1, &missing, NULL, 0, NULL, 0), -ECONNREFUSED);

  /* Two fds plus explicit credentials: both control messages arrive, fds CLOEXEC. */
  int p[2];
  EQ(sdk_pipe2(p, O_CLOEXEC), 0);
  int cred[3] = { (int)getpid(), (int)getuid(), (int)getgid() };
  EQ(sdk_sendmsg(tx, "FDSTORE=1", 9, &ra, p, 2, cred, 0), 9);
  EQ(sdk_recvmsg(rx, buf, sizeof buf, &r), 9);
  EXPECT(memcmp(buf, "FDSTORE=1", 9) == 0, "payload");
  EQ(r.nfds, 2);
  EQ(r.has_cred, 1);
  EQ(r.pid, getpid());
  EQ(r.uid, getuid());
  EQ(r.flags & (MSG_TRUNC | MSG_CTRUNC), 0);
  for (int i = 0; i < r.nfds; i++) {
    EXPECT(is_cloexec(r.fds[i]), "received fd %d not CLOEXEC", r.fds[i]);
    EQ(sdk_close(r.fds[i]), 0);
  }

  /* sendmsg_once: a fresh socket per datagram, fds included, errors as -errno, no fd left open. */
  int before = count_fds();
  EQ(sdk_sendmsg_once(&ra, "ONCE=1", 6, p, 1), 6);
  EQ(sdk_recvmsg(rx, buf, sizeof buf, &r), 6);
  EXPECT(memcmp(buf, "ONCE=1", 6) == 0, "once payload");
  EQ(r.pid, getpid());
  EQ(r.nfds, 1);
  EQ(sdk_close(r.fds[0]), 0);
  EQ(sdk_sendmsg_once(&ra, "F", 1, p, 2), 1);
  EQ(sdk_recvmsg(rx, buf, sizeof buf, &r), 1);
  EQ(r.nfds, 2);
  for (int i = 0; i < r.nfds; i++) EQ(sdk_close(r.fds[i]), 0);
  EQ(sdk_sendmsg_once(&missing, "x", 1, NULL, 0), -ECONNREFUSED);
  int badfd = -1;
  EQ(sdk_sendmsg_once(&ra, "x", 1, &badfd, 1), -EBADF);
  EQ(count_fds(), before);

  /* Credentials only, then fds only (the kernel adds credentials itself with SO_PASSCRED). */
  EQ(sdk_sendmsg(tx, "A", 1, &ra, NULL, 0, cred, 0), 1);
  EQ(sdk_recvmsg(rx, buf, sizeof buf, &r), 1);
  EQ(r.nfds, 0);
  EQ(r.has_cred, 1);
  EQ(sdk_sendmsg(tx, "B", 1, &ra, p, 1, NULL, 0), 1);
  EQ(sdk_recvmsg(rx, buf, sizeof buf, &r), 1);
  EQ(r.nfds, 1);
  EQ(r.pid, getpid());
  EQ(sdk_close(r.fds[0]), 0);

  /* Truncation: the datagram's real length is returned and MSG_TRUNC set; the rest is dropped. */
  char big[100];
  memset(big, 'z', sizeof big);
  EQ(sdk_sendmsg(tx, big, sizeof big, &ra, NULL, 0, NULL, 0), 100);
  EQ(sdk_recvmsg(rx, buf, 10, &r), 100);
  EXPECT(r.flags & MSG_TRUNC, "MSG_TRUNC not set");
  EQ(sdk_recvmsg(rx, buf, sizeof buf, &r), -EAGAIN);

  /* SCM_MAX_FD: 253 fds travel in one message (with credentials); 254 is E2BIG before any syscall. */
  int many[SDK_MAX_FDS + 1];
  for (int i = 0; i <= SDK_MAX_FDS; i++) many[i] = p[i % 2];
  EQ(sdk_sendmsg(tx, "M", 1, &ra, many, SDK_MAX_FDS + 1, NULL, 0), -E2BIG);
  EQ(sdk_sendmsg(tx, "M", 1, &ra, many, SDK_MAX_FDS, cred, 0), 1);
  EQ(sdk_recvmsg(rx, buf, sizeof buf, &r), 1);
  EQ(r.nfds, SDK_MAX_FDS);
  EQ(r.has_cred, 1);
  EQ(r.flags & MSG_CTRUNC, 0);
  for (int i = 0; i < r.nfds; i++) EQ(sdk_close(r.fds[i]), 0);

  /* A stream socketpair (no address): fds ride along with a byte. */
  int sp[2];
  EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  EQ(sdk_sendmsg(sp[0], "s", 1, NULL, &p[1], 1, NULL, 0), 1);
  EQ(sdk_recvmsg(sp[1], buf, sizeof buf, &r), 1);
  EQ(r.nfds, 1);
  EQ(r.from.len, 0);
  EQ(write(r.fds[0], "!", 1), 1); /* the received fd is the pipe's write end */
  EQ(read(p[0], buf, 1), 1);
  EQ(sdk_close(r.fds[0]), 0);
  EQ(sdk_sendmsg(sp[0], "s", 1, NULL, (int[]){ -1 }, 1, NULL, 0), -EBADF);

  int mine[] = { sp[0], sp[1], p[0], p[1], tx, rx };
  for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++) EQ(sdk_close(mine[i]), 0);
}

int main(void) {
  int before = count_fds();
  addresses();
  fd_ops();
  sockets();
  messages();
  EQ(count_fds(), before);
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
