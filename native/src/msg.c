/* sendmsg/recvmsg with SCM_RIGHTS and SCM_CREDENTIALS: the notify transport, the notify
 * receiver and UnixDatagramSocket all go through these two functions. */
#include "glue.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DGRAM (1 << 20)

/* [pid, uid, gid]: uid/gid are unsigned in the kernel, so values up to 2^32-1 are accepted. */
static int arg_cred(napi_env env, napi_value v, int cred[3]) {
  bool is;
  uint32_t n;
  if (napi_is_array(env, v, &is) != napi_ok || !is || napi_get_array_length(env, v, &n) != napi_ok || n != 3) {
    napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "cred must be [pid, uid, gid]");
    return -1;
  }
  for (uint32_t i = 0; i < 3; i++) {
    napi_value e;
    double d;
    if (napi_get_element(env, v, i, &e) != napi_ok || napi_get_value_double(env, e, &d) != napi_ok ||
        !(d >= INT32_MIN && d <= UINT32_MAX) || d != (double)(int64_t)d) {
      napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "cred must be [pid, uid, gid] integers");
      return -1;
    }
    cred[i] = (int)(uint32_t)(int64_t)d;
  }
  return 0;
}

/* sendmsg(fd, data: Buffer, to: addr | null, fds: number[], cred: [pid, uid, gid] | null) */
static napi_value js_sendmsg(napi_env env, napi_callback_info info) {
  ARGS(5);
  int fd;
  if (sdk_arg_int(env, argv[0], &fd) < 0) return NULL;
  void *data;
  size_t len;
  if (sdk_arg_bytes(env, argv[1], &data, &len) < 0) return NULL;
  napi_valuetype t;
  sdk_addr to, *top = NULL;
  CHECK(napi_typeof(env, argv[2], &t));
  if (t == napi_object) {
    int r = sdk_addr_from_js(env, argv[2], &to);
    if (r == -1) { bool p; napi_is_exception_pending(env, &p); if (p) return NULL; }
    if (r < 0) return sdk_int(env, r);
    top = &to;
  } else if (t != napi_null && t != napi_undefined) {
    napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "to must be an address object or null");
    return NULL;
  }
  int fds[SDK_MAX_FDS];
  uint32_t n;
  bool is;
  if (napi_is_array(env, argv[3], &is) != napi_ok || !is) {
    napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "fds must be an array of fd numbers");
    return NULL;
  }
  CHECK(napi_get_array_length(env, argv[3], &n));
  if (n > SDK_MAX_FDS) return sdk_int(env, -E2BIG);
  int nfds = sdk_arg_fds(env, argv[3], fds, SDK_MAX_FDS);
  if (nfds < 0) return NULL;
  int cred[3], *credp = NULL;
  CHECK(napi_typeof(env, argv[4], &t));
  if (t != napi_null && t != napi_undefined) {
    if (arg_cred(env, argv[4], cred) < 0) return NULL;
    credp = cred;
  }
  return sdk_int(env, sdk_sendmsg(fd, data, len, top, fds, (size_t)nfds, credp, 0));
}

/* Notifications are at most 4096 bytes (the manager's buffer); TypeScript checks that first. */
#define ONCE_STR_MAX 4096

/* sendmsgOnce(to: addr, data: string | Buffer, fds: number[] | null) -> bytes | -errno.
 * A string is sent as its UTF-8 bytes without a JS Buffer in between (at most ONCE_STR_MAX). */
static napi_value js_sendmsg_once(napi_env env, napi_callback_info info) {
  ARGS(3);
  sdk_addr to;
  int r = sdk_addr_from_js(env, argv[0], &to);
  if (r == -1) { bool p; napi_is_exception_pending(env, &p); if (p) return NULL; }
  if (r < 0) return sdk_int(env, r);
  char text[ONCE_STR_MAX + 1];
  void *data;
  size_t len;
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[1], &t));
  if (t == napi_string) {
    CHECK(napi_get_value_string_utf8(env, argv[1], NULL, 0, &len));
    if (len > ONCE_STR_MAX) return sdk_int(env, -EMSGSIZE);
    CHECK(napi_get_value_string_utf8(env, argv[1], text, sizeof text, &len));
    data = text;
  } else if (sdk_arg_bytes(env, argv[1], &data, &len) < 0) {
    return NULL;
  }
  int fds[SDK_MAX_FDS], nfds = 0;
  CHECK(napi_typeof(env, argv[2], &t));
  if (t != napi_null && t != napi_undefined) {
    nfds = sdk_arg_fds(env, argv[2], fds, SDK_MAX_FDS);
    if (nfds < 0) return NULL;
  }
  return sdk_int(env, sdk_sendmsg_once(&to, data, len, fds, (size_t)nfds));
}

/* recvmsg(fd, cap) -> { data, flags, fds, pid, uid, gid, from } | -errno (-EAGAIN when empty) */
static napi_value js_recvmsg(napi_env env, napi_callback_info info) {
  ARGS(2);
  int fd, cap;
  if (sdk_arg_int(env, argv[0], &fd) < 0 || sdk_arg_int(env, argv[1], &cap) < 0) return NULL;
  if (cap < 1 || cap > MAX_DGRAM) cap = MAX_DGRAM;
  char *buf = malloc((size_t)cap);
  sdk_recv *r = malloc(sizeof *r);
  if (!buf || !r) { free(buf); free(r); return sdk_int(env, -ENOMEM); }
  ssize_t n = sdk_recvmsg(fd, buf, (size_t)cap, r);
  if (n < 0) { free(buf); free(r); return sdk_int(env, n); }
  napi_value o, v, arr;
  napi_create_object(env, &o);
  void *dst;
  size_t got = (size_t)n < (size_t)cap ? (size_t)n : (size_t)cap;
  napi_create_buffer_copy(env, got, buf, &dst, &v);
  napi_set_named_property(env, o, "data", v);
  napi_set_named_property(env, o, "length", sdk_int(env, n));
  napi_set_named_property(env, o, "flags", sdk_int(env, r->flags));
  napi_create_array_with_length(env, (size_t)r->nfds, &arr);
  for (int i = 0; i < r->nfds; i++) napi_set_element(env, arr, (uint32_t)i, sdk_int(env, r->fds[i]));
  napi_set_named_property(env, o, "fds", arr);
  napi_set_named_property(env, o, "pid", sdk_int(env, r->has_cred ? r->pid : -1));
  napi_set_named_property(env, o, "uid", sdk_int(env, r->has_cred ? r->uid : -1));
  napi_set_named_property(env, o, "gid", sdk_int(env, r->has_cred ? r->gid : -1));
  napi_set_named_property(env, o, "from", sdk_addr_to_js(env, &r->from));
  free(buf);
  free(r);
  return o;
}

void sdk_register_msg(napi_env env, napi_value exports) {
  sdk_register(env, exports, "sendmsg", js_sendmsg);
  sdk_register(env, exports, "sendmsgOnce", js_sendmsg_once);
  sdk_register(env, exports, "recvmsg", js_recvmsg);
}
