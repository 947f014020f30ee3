#include "sys.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define RETRY(expr) ({ long _r; do { _r = (long)(expr); } while (_r < 0 && errno == EINTR); _r; })

int sdk_addr_unix(sdk_addr *a, const char *path, size_t plen) {
  struct sockaddr_un *sun = (struct sockaddr_un *)&a->ss;
  memset(a, 0, sizeof *a);
  if (plen == 0 || plen > sizeof sun->sun_path) return -EINVAL;
  sun->sun_family = AF_UNIX;
  memcpy(sun->sun_path, path, plen);
  a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
  return 0;
}

int sdk_addr_inet(sdk_addr *a, int family, const char *host, int port) {
  memset(a, 0, sizeof *a);
  if (port < 0 || port > 65535) return -EINVAL;
  if (family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &in->sin_addr) != 1) return -EINVAL;
    a->len = sizeof *in;
    return 0;
  }
  if (family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) return -EINVAL;
    a->len = sizeof *in6;
    return 0;
  }
  return -EAFNOSUPPORT;
}

ssize_t sdk_sendmsg(int fd, const void *data, size_t len, const sdk_addr *to, const int *fds,
                    size_t nfds, const int *cred, int flags) {
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * SDK_MAX_FDS) + CMSG_SPACE(sizeof(struct ucred))];
  } ctl;
  struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  memset(&ctl, 0, sizeof ctl);
  if (nfds > SDK_MAX_FDS) return -E2BIG;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (to) {
    mh.msg_name = (void *)&to->ss;
    mh.msg_namelen = to->len;
  }
  size_t clen = 0;
  if (nfds > 0) clen += CMSG_SPACE(sizeof(int) * nfds);
  if (cred) clen += CMSG_SPACE(sizeof(struct ucred));
  if (clen > 0) {
    mh.msg_control = ctl.buf;
    mh.msg_controllen = clen;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    if (nfds > 0) {
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
      memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
      c = CMSG_NXTHDR(&mh, c);
    }
    if (cred) {
      struct ucred uc = { .pid = cred[0], .uid = (uid_t)cred[1], .gid = (gid_t)cred[2] };
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_CREDENTIALS;
      c->cmsg_len = CMSG_LEN(sizeof uc);
      memcpy(CMSG_DATA(c), &uc, sizeof uc);
    }
  }
  long n = RETRY(sendmsg(fd, &mh, flags | MSG_NOSIGNAL));
  return n < 0 ? -errno : n;
}

ssize_t sdk_sendmsg_once(const sdk_addr *to, const void *data, size_t len, const int *fds, size_t nfds) {
  int fd = socket(to->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -errno;
  ssize_t n = sdk_sendmsg(fd, data, len, to, fds, nfds, NULL, 0);
  close(fd); /* a fresh datagram socket: close cannot fail in a way that matters */
  return n;
}

ssize_t sdk_recvmsg(int fd, void *buf, size_t cap, sdk_recv *r) {
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * SDK_MAX_FDS) + CMSG_SPACE(sizeof(struct ucred))];
  } ctl;
  struct iovec iov = { .iov_base = buf, .iov_len = cap };
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  memset(r, 0, sizeof *r);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_name = &r->from.ss;
  mh.msg_namelen = sizeof r->from.ss;
  mh.msg_control = ctl.buf;
  mh.msg_controllen = sizeof ctl.buf;
  long n = RETRY(recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC));
  if (n < 0) return -errno;
  r->len = n;
  r->flags = mh.msg_flags;
  r->from.len = mh.msg_namelen;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_RIGHTS) {
      size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < k; i++) {
        int got;
        memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
        if (r->nfds < SDK_MAX_FDS) r->fds[r->nfds++] = got;
        else close(got); /* cannot happen (kernel cap), but never leak */
      }
    } else if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
      struct ucred uc;
      memcpy(&uc, CMSG_DATA(c), sizeof uc);
      r->has_cred = 1;
      r->pid = uc.pid;
      r->uid = (int)uc.uid;
      r->gid = (int)uc.gid;
    }
  }
  return n;
}

int sdk_getsockopt_int(int fd, int level, int opt) {
  int v = 0;
  socklen_t l = sizeof v;
  if (getsockopt(fd, level, opt, &v, &l) < 0) return -errno;
  return v;
}

int sdk_fdinfo(int fd, int want_reuseport, sdk_fdfacts *out) {
  struct stat st;
  memset(out, 0, sizeof *out);
  if (fstat(fd, &st) < 0) return -errno;
  out->mode = (int)st.st_mode;
  out->dev = (uint64_t)st.st_dev;
  out->ino = (uint64_t)st.st_ino;
  if (!S_ISSOCK(st.st_mode)) return 0;
  out->type = sdk_getsockopt_int(fd, SOL_SOCKET, SO_TYPE);
  out->acceptconn = sdk_getsockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN);
  if (want_reuseport) out->reuseport = sdk_getsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT);
  out->name_rc = sdk_sockname(fd, 0, &out->name);
  return 1;
}

int sdk_setsockopt_int(int fd, int level, int opt, int val) {
  return setsockopt(fd, level, opt, &val, sizeof val) < 0 ? -errno : 0;
}

int sdk_sockname(int fd, int peer, sdk_addr *out) {
  memset(out, 0, sizeof *out);
  out->len = sizeof out->ss;
  int rc = peer ? getpeername(fd, (struct sockaddr *)&out->ss, &out->len)
                : getsockname(fd, (struct sockaddr *)&out->ss, &out->len);
  return rc < 0 ? -errno : 0;
}

int sdk_dup_cloexec(int fd, int min_fd) {
  int r = fcntl(fd, F_DUPFD_CLOEXEC, min_fd);
  return r < 0 ? -errno : r;
}

/* FD_CLOEXEC is the only fd flag Linux has, so F_SETFD with the whole word is exact: no F_GETFD
 * first (libsystemd reads it to skip a redundant write; each syscall costs ~1.2 µs on a VM, and
 * activation sets it on every passed fd). */
int sdk_set_cloexec(int fd, int on) {
  return fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0) < 0 ? -errno : 0;
}

int sdk_pipe2(int fds[2], int flags) { return pipe2(fds, flags) < 0 ? -errno : 0; }

/* close() is not retried on EINTR: on Linux the fd is gone either way. */
int sdk_close(int fd) { return close(fd) < 0 ? -errno : 0; }
