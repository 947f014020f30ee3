/* Socket syscalls, one JS function each: TypeScript composes socket/setsockopt/bind/listen so
 * that the order (e.g. chmod between bind and listen) is policy it owns. */
#include "glue.h"
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#define INT_ARG(i, name) int name; if (sdk_arg_int(env, argv[i], &name) < 0) return NULL

static napi_value js_socket(napi_env env, napi_callback_info info) {
  ARGS(3); INT_ARG(0, domain); INT_ARG(1, type); INT_ARG(2, proto);
  int fd = socket(domain, type, proto);
  return sdk_int(env, fd < 0 ? -errno : fd);
}

static napi_value js_socketpair(napi_env env, napi_callback_info info) {
  ARGS(2); INT_ARG(0, domain); INT_ARG(1, type);
  int sv[2];
  if (socketpair(domain, type, 0, sv) < 0) return sdk_int(env, -errno);
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, sdk_int(env, sv[0]));
  napi_set_element(env, arr, 1, sdk_int(env, sv[1]));
  return arr;
}

static napi_value js_getsockopt(napi_env env, napi_callback_info info) {
  ARGS(3); INT_ARG(0, fd); INT_ARG(1, level); INT_ARG(2, opt);
  return sdk_int(env, sdk_getsockopt_int(fd, level, opt));
}

static napi_value js_setsockopt(napi_env env, napi_callback_info info) {
  ARGS(4); INT_ARG(0, fd); INT_ARG(1, level); INT_ARG(2, opt); INT_ARG(3, val);
  return sdk_int(env, sdk_setsockopt_int(fd, level, opt, val));
}

static napi_value js_bind(napi_env env, napi_callback_info info) {
  ARGS(2); INT_ARG(0, fd);
  sdk_addr a;
  int r = sdk_addr_from_js(env, argv[1], &a);
  if (r == -1) { bool p; napi_is_exception_pending(env, &p); if (p) return NULL; }
  if (r < 0) return sdk_int(env, r);
  return sdk_int(env, bind(fd, (struct sockaddr *)&a.ss, a.len) < 0 ? -errno : 0);
}

static napi_value js_connect(napi_env env, napi_callback_info info) {
  ARGS(2); INT_ARG(0, fd);
  sdk_addr a;
  int r = sdk_addr_from_js(env, argv[1], &a);
  if (r == -1) { bool p; napi_is_exception_pending(env, &p); if (p) return NULL; }
  if (r < 0) return sdk_int(env, r);
  do { r = connect(fd, (struct sockaddr *)&a.ss, a.len); } while (r < 0 && errno == EINTR);
  return sdk_int(env, r < 0 ? -errno : 0);
}

static napi_value js_listen(napi_env env, napi_callback_info info) {
  ARGS(2); INT_ARG(0, fd); INT_ARG(1, backlog);
  return sdk_int(env, listen(fd, backlog) < 0 ? -errno : 0);
}

/* Returns the decoded address object or -errno. */
static napi_value sockname(napi_env env, napi_callback_info info, int peer) {
  ARGS(1); INT_ARG(0, fd);
  sdk_addr a;
  int r = sdk_sockname(fd, peer, &a);
  if (r < 0) return sdk_int(env, r);
  return sdk_addr_to_js(env, &a);
}
static napi_value js_getsockname(napi_env env, napi_callback_info info) { return sockname(env, info, 0); }

/* fdInfo(fd, withReusePort, out: Float64Array(8)): out = [mode, dev, ino] and, for a socket,
 * [.., type, acceptconn, reuseport, family | -errno of getsockname, port]. Returns -errno (fstat
 * failed), 0 (not a socket), the address text (inet), the path bytes as a Buffer (AF_UNIX), or
 * 1 (a socket without either). Numbers go into the caller's array and only the address is a new
 * value: no array or object per call, for a daemon that inspects hundreds of fds at start-up. */
static napi_value js_fdinfo(napi_env env, napi_callback_info info) {
  ARGS(3); INT_ARG(0, fd);
  bool want;
  double *out;
  if (sdk_arg_bool(env, argv[1], &want) < 0 || sdk_arg_f64s(env, argv[2], &out, 8) < 0) return NULL;
  sdk_fdfacts fi;
  int r = sdk_fdinfo(fd, want, &fi);
  if (r < 0) return sdk_int(env, r);
  out[0] = fi.mode;
  out[1] = (double)fi.dev;
  out[2] = (double)fi.ino;
  if (r == 0) return sdk_int(env, 0);
  out[3] = fi.type;
  out[4] = fi.acceptconn;
  out[5] = fi.reuseport;
  out[6] = fi.name_rc < 0 ? fi.name_rc : ((const struct sockaddr *)&fi.name.ss)->sa_family;
  out[7] = 0;
  if (fi.name_rc < 0) return sdk_int(env, 1);
  return sdk_addr_text(env, &fi.name, &out[7]);
}
static napi_value js_getpeername(napi_env env, napi_callback_info info) { return sockname(env, info, 1); }

void sdk_register_sock(napi_env env, napi_value exports) {
  sdk_register(env, exports, "socket", js_socket);
  sdk_register(env, exports, "socketpair", js_socketpair);
  sdk_register(env, exports, "getsockopt", js_getsockopt);
  sdk_register(env, exports, "setsockopt", js_setsockopt);
  sdk_register(env, exports, "bind", js_bind);
  sdk_register(env, exports, "connect", js_connect);
  sdk_register(env, exports, "listen", js_listen);
  sdk_register(env, exports, "getsockname", js_getsockname);
  sdk_register(env, exports, "fdInfo", js_fdinfo);
  sdk_register(env, exports, "getpeername", js_getpeername);
}
