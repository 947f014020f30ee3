/* File-descriptor syscalls Node has no binding for: dup with CLOEXEC, fcntl flags, fstat of
 * an fd without wrapping it in a handle, flock, pipe2, mkfifo and umask. */
#include "glue.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

#define FD_ARG(i, name) int name; if (sdk_arg_int(env, argv[i], &name) < 0) return NULL

static napi_value js_close(napi_env env, napi_callback_info info) {
  ARGS(1); FD_ARG(0, fd);
  return sdk_int(env, sdk_close(fd));
}

static napi_value js_dup_cloexec(napi_env env, napi_callback_info info) {
  ARGS(2); FD_ARG(0, fd); FD_ARG(1, min);
  return sdk_int(env, sdk_dup_cloexec(fd, min));
}

/* dup2(old, new): the new fd is NOT close-on-exec, which is what re-exec needs (fds at 3..). */
static napi_value js_dup2(napi_env env, napi_callback_info info) {
  ARGS(2); FD_ARG(0, oldfd); FD_ARG(1, newfd);
  if (oldfd == newfd) { int c = sdk_set_cloexec(newfd, 0); return sdk_int(env, c < 0 ? c : newfd); }
  int r;
  do { r = dup2(oldfd, newfd); } while (r < 0 && errno == EINTR);
  return sdk_int(env, r < 0 ? -errno : r);
}

static napi_value js_set_cloexec(napi_env env, napi_callback_info info) {
  ARGS(2); FD_ARG(0, fd);
  bool on;
  if (sdk_arg_bool(env, argv[1], &on) < 0) return NULL;
  return sdk_int(env, sdk_set_cloexec(fd, on));
}

/* F_GETFD (fd flags, i.e. FD_CLOEXEC) or F_GETFL (file status flags, i.e. O_NONBLOCK). */
static napi_value js_get_flags(napi_env env, napi_callback_info info) {
  ARGS(2); FD_ARG(0, fd); FD_ARG(1, status);
  int r = fcntl(fd, status ? F_GETFL : F_GETFD);
  return sdk_int(env, r < 0 ? -errno : r);
}

static napi_value js_set_fl(napi_env env, napi_callback_info info) {
  ARGS(2); FD_ARG(0, fd); FD_ARG(1, fl);
  return sdk_int(env, fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0);
}

/* fstat(fd) -> [mode, dev, ino] or -errno. fstat(fd, out: Float64Array(3)) writes them into
 * out and returns 0 (or -errno): no array per call, for activation's pass over every passed fd.
 * ino and dev fit a double for every real filesystem. */
static napi_value js_fstat(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) { napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "missing argument"); return NULL; }
  FD_ARG(0, fd);
  double *out = NULL;
  if (argc >= 2 && sdk_arg_f64s(env, argv[1], &out, 3) < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) < 0) return sdk_int(env, -errno);
  if (out) {
    out[0] = st.st_mode;
    out[1] = (double)st.st_dev;
    out[2] = (double)st.st_ino;
    return sdk_int(env, 0);
  }
  napi_value arr, v;
  napi_create_array_with_length(env, 3, &arr);
  napi_set_element(env, arr, 0, sdk_int(env, st.st_mode));
  napi_create_double(env, (double)st.st_dev, &v);
  napi_set_element(env, arr, 1, v);
  napi_create_double(env, (double)st.st_ino, &v);
  napi_set_element(env, arr, 2, v);
  return arr;
}

static napi_value js_flock(napi_env env, napi_callback_info info) {
  ARGS(2); FD_ARG(0, fd); FD_ARG(1, op);
  int r;
  do { r = flock(fd, op); } while (r < 0 && errno == EINTR);
  return sdk_int(env, r < 0 ? -errno : 0);
}

/* Returns [readFd, writeFd] or -errno. Flags: O_CLOEXEC / O_NONBLOCK. */
static napi_value js_pipe2(napi_env env, napi_callback_info info) {
  ARGS(1); FD_ARG(0, flags);
  int p[2];
  int r = sdk_pipe2(p, flags);
  if (r < 0) return sdk_int(env, r);
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, sdk_int(env, p[0]));
  napi_set_element(env, arr, 1, sdk_int(env, p[1]));
  return arr;
}

static napi_value js_mkfifo(napi_env env, napi_callback_info info) {
  ARGS(2);
  char path[4097];
  int r = sdk_arg_str(env, argv[0], path, sizeof path);
  if (r < 0) return NULL;
  FD_ARG(1, mode);
  if (r > 0) return sdk_int(env, -ENAMETOOLONG);
  return sdk_int(env, mkfifo(path, (mode_t)mode) < 0 ? -errno : 0);
}

static napi_value js_umask(napi_env env, napi_callback_info info) {
  ARGS(1); FD_ARG(0, mask);
  return sdk_int(env, umask((mode_t)mask));
}

/* pidfdInode(pid) -> [inode: bigint, fsMagic: number] | -errno. On pidfs (Linux >= 6.9) the
 * inode of a pidfd uniquely identifies a process for the boot: LISTEN_PIDFDID compares to it. */
static napi_value js_pidfd_inode(napi_env env, napi_callback_info info) {
  ARGS(1); FD_ARG(0, pid);
#ifdef SYS_pidfd_open
  int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pfd < 0) return sdk_int(env, -errno);
  struct stat st;
  struct statfs sf;
  int r = fstat(pfd, &st) < 0 || fstatfs(pfd, &sf) < 0 ? -errno : 0;
  close(pfd);
  if (r < 0) return sdk_int(env, r);
  napi_value arr, v;
  napi_create_array_with_length(env, 2, &arr);
  napi_create_bigint_uint64(env, (uint64_t)st.st_ino, &v);
  napi_set_element(env, arr, 0, v);
  napi_create_double(env, (double)(unsigned long)sf.f_type, &v);
  napi_set_element(env, arr, 1, v);
  return arr;
#else
  return sdk_int(env, -ENOSYS);
#endif
}

void sdk_register_fd(napi_env env, napi_value exports) {
  sdk_register(env, exports, "close", js_close);
  sdk_register(env, exports, "dupCloexec", js_dup_cloexec);
  sdk_register(env, exports, "setCloexec", js_set_cloexec);
  sdk_register(env, exports, "dup2", js_dup2);
  sdk_register(env, exports, "getFlags", js_get_flags);
  sdk_register(env, exports, "setFl", js_set_fl);
  sdk_register(env, exports, "fstat", js_fstat);
  sdk_register(env, exports, "flock", js_flock);
  sdk_register(env, exports, "pipe2", js_pipe2);
  sdk_register(env, exports, "mkfifo", js_mkfifo);
  sdk_register(env, exports, "umask", js_umask);
  sdk_register(env, exports, "pidfdInode", js_pidfd_inode);
}
