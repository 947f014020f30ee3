/* Plain-C syscall wrappers used by the Node-API glue and by the valgrind test driver.
 * Convention (borrowed from node-unix-dgram): every function returns >= 0 on success or
 * -errno on failure, retries EINTR, and never allocates on the JS heap. No policy lives here:
 * which address to use, which flags to set and what an error means is TypeScript's business. */
#ifndef SDKIT_SYS_H
#define SDKIT_SYS_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* SCM_MAX_FD in the kernel: more fds than this in one sendmsg fails with EINVAL. */
#define SDK_MAX_FDS 253

/* A socket address in a form both sides can handle: the raw sockaddr bytes and their length. */
typedef struct {
  struct sockaddr_storage ss;
  socklen_t len;
} sdk_addr;

/* AF_UNIX: `path` holds the exact sun_path bytes (a leading NUL = abstract; a filesystem path
 * must carry its own terminating NUL). The address length is offsetof(sun_path) + plen, so
 * abstract names are exact-length, as systemd and Go use them (libuv pads to 108 bytes). */
int sdk_addr_unix(sdk_addr *a, const char *path, size_t plen);
/* AF_INET / AF_INET6 from text; returns -EINVAL for an unparsable address. */
int sdk_addr_inet(sdk_addr *a, int family, const char *host, int port);

/* Sends one datagram (optionally to `to`) with up to SDK_MAX_FDS fds (SCM_RIGHTS) and optional
 * explicit credentials (SCM_CREDENTIALS, when `cred` is non-NULL). Returns bytes sent. */
ssize_t sdk_sendmsg(int fd, const void *data, size_t len, const sdk_addr *to, const int *fds,
                    size_t nfds, const int *cred /* pid, uid, gid */, int flags);

/* socket() + sendmsg(to) + close(): one datagram from a fresh, unbound, non-blocking socket of
 * to's family, as libsystemd sends a notification. One call instead of four from JavaScript:
 * a notification usually arrives after the process was idle, and each crossing into native
 * code costs most when the caches are cold. Returns bytes sent or -errno (of socket or sendmsg). */
ssize_t sdk_sendmsg_once(const sdk_addr *to, const void *data, size_t len, const int *fds, size_t nfds);

typedef struct {
  ssize_t len;          /* bytes received */
  int flags;            /* msg_flags (MSG_TRUNC, MSG_CTRUNC) */
  int nfds;             /* fds received (already CLOEXEC via MSG_CMSG_CLOEXEC) */
  int fds[SDK_MAX_FDS];
  int has_cred;
  int pid, uid, gid;
  sdk_addr from;
} sdk_recv;

/* Receives one datagram without blocking (MSG_DONTWAIT) into buf; fills r. Returns bytes or -errno. */
ssize_t sdk_recvmsg(int fd, void *buf, size_t cap, sdk_recv *r);

int sdk_getsockopt_int(int fd, int level, int opt);

/* What the file tests ask about an fd, in one call: each syscall costs more than a microsecond
 * on a VM, and each crossing from JavaScript about as much again, so a daemon adopting hundreds
 * of sockets feels both. Fields a syscall could not answer hold its -errno. */
typedef struct {
  int mode;
  uint64_t dev, ino;
  int type, acceptconn, reuseport; /* sockets only; reuseport only when asked, else 0 */
  int name_rc;                     /* getsockname's 0 or -errno (sockets only) */
  sdk_addr name;
} sdk_fdfacts;
/* fstat, then for a socket SO_TYPE, SO_ACCEPTCONN, SO_REUSEPORT (if want_reuseport) and
 * getsockname. Returns 1 for a socket, 0 for any other open fd, -errno when fstat fails. */
int sdk_fdinfo(int fd, int want_reuseport, sdk_fdfacts *out);
int sdk_setsockopt_int(int fd, int level, int opt, int val);
int sdk_sockname(int fd, int peer, sdk_addr *out);
int sdk_dup_cloexec(int fd, int min_fd);
int sdk_set_cloexec(int fd, int on);
int sdk_pipe2(int fds[2], int flags);
int sdk_close(int fd);
#endif
