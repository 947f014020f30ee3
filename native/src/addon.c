/* Module entry: the export table and the shared argument helpers. */
#include "glue.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>

napi_value sdk_int(napi_env env, int64_t v) {
  napi_value r;
  napi_create_int64(env, v, &r);
  return r;
}

int sdk_arg_int(napi_env env, napi_value v, int *out) {
  double d;
  /* napi_get_value_int32 would wrap 2**32+1 to 1 and map NaN to 0: check the double first. */
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= INT32_MIN && d <= INT32_MAX) || d != (double)(int32_t)d) {
    napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "expected an integer in the int32 range");
    return -1;
  }
  *out = (int32_t)d;
  return 0;
}

int sdk_arg_bool(napi_env env, napi_value v, bool *out) {
  if (napi_get_value_bool(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "expected a boolean");
    return -1;
  }
  return 0;
}

int sdk_arg_str(napi_env env, napi_value v, char *buf, size_t cap) {
  size_t full, got;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &full) != napi_ok) {
    napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "expected a string");
    return -1;
  }
  if (full >= cap) return 1;
  napi_get_value_string_utf8(env, v, buf, cap, &got);
  if (strlen(buf) != got) { /* C would silently stop at the NUL: another path */
    napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "string contains a NUL byte");
    return -1;
  }
  return 0;
}

int sdk_arg_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool is;
  if (napi_is_buffer(env, v, &is) == napi_ok && is) {
    if (napi_get_buffer_info(env, v, data, len) == napi_ok) return 0;
  }
  napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "expected a Buffer");
  return -1;
}

int sdk_arg_f64s(napi_env env, napi_value v, double **data, size_t min) {
  bool is = false;
  napi_typedarray_type t;
  size_t n = 0;
  void *d = NULL;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is &&
      napi_get_typedarray_info(env, v, &t, &n, &d, NULL, NULL) == napi_ok && t == napi_float64_array && n >= min) {
    *data = d;
    return 0;
  }
  napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "expected a Float64Array");
  return -1;
}

int sdk_arg_fds(napi_env env, napi_value v, int *out, size_t max) {
  uint32_t n;
  if (napi_get_array_length(env, v, &n) != napi_ok || n > max) {
    napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "expected an array of at most 253 fds");
    return -1;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, v, i, &e) != napi_ok || sdk_arg_int(env, e, &out[i]) < 0) return -1;
  }
  return (int)n;
}

static void set_named(napi_env env, napi_value obj, const char *k, napi_value v) {
  napi_set_named_property(env, obj, k, v);
}

napi_value sdk_addr_text(napi_env env, const sdk_addr *a, double *port) {
  int fam = a->len >= sizeof(sa_family_t) ? ((const struct sockaddr *)&a->ss)->sa_family : AF_UNSPEC;
  napi_value v;
  if (fam == AF_INET || fam == AF_INET6) {
    char text[INET6_ADDRSTRLEN] = "";
    if (fam == AF_INET) {
      const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
      inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
      *port = ntohs(in->sin_port);
    } else {
      const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
      *port = ntohs(in6->sin6_port);
    }
    napi_create_string_latin1(env, text, NAPI_AUTO_LENGTH, &v);
    return v;
  }
  if (fam == AF_UNIX) {
    size_t off = offsetof(struct sockaddr_un, sun_path);
    size_t plen = a->len > off ? a->len - off : 0;
    void *dst;
    napi_create_buffer_copy(env, plen, ((const struct sockaddr_un *)&a->ss)->sun_path, &dst, &v);
    return v;
  }
  return sdk_int(env, 1);
}

napi_value sdk_addr_to_js(napi_env env, const sdk_addr *a) {
  napi_value o;
  napi_create_object(env, &o);
  int fam = a->len >= sizeof(sa_family_t) ? ((const struct sockaddr *)&a->ss)->sa_family : AF_UNSPEC;
  set_named(env, o, "family", sdk_int(env, fam));
  double port = 0;
  napi_value v = sdk_addr_text(env, a, &port);
  if (fam == AF_INET || fam == AF_INET6) {
    set_named(env, o, "address", v);
    set_named(env, o, "port", sdk_int(env, (int64_t)port));
  } else if (fam == AF_UNIX) {
    /* Raw sun_path bytes with their exact length: abstract names contain NULs, so a C string
     * would truncate them. TypeScript decodes NUL-prefixed (abstract) and NUL-terminated paths. */
    set_named(env, o, "path", v);
  }
  return o;
}

int sdk_addr_from_js(napi_env env, napi_value v, sdk_addr *a) {
  napi_value fv, pv;
  napi_valuetype t;
  int fam;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_object) {
    napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "expected an address object");
    return -1;
  }
  if (napi_get_named_property(env, v, "family", &fv) != napi_ok || sdk_arg_int(env, fv, &fam) < 0) return -1;
  if (fam == AF_UNIX) {
    void *p;
    size_t plen;
    if (napi_get_named_property(env, v, "path", &pv) != napi_ok || sdk_arg_bytes(env, pv, &p, &plen) < 0) return -1;
    return sdk_addr_unix(a, p, plen);
  }
  char host[INET6_ADDRSTRLEN + 1];
  size_t hl;
  int port;
  napi_value hv, portv;
  if (napi_get_named_property(env, v, "address", &hv) != napi_ok ||
      napi_get_value_string_utf8(env, hv, host, sizeof host, &hl) != napi_ok ||
      napi_get_named_property(env, v, "port", &portv) != napi_ok || sdk_arg_int(env, portv, &port) < 0) {
    napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "expected { family, address, port }");
    return -1;
  }
  return sdk_addr_inet(a, fam, host, port);
}

void sdk_register(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);
  napi_set_named_property(env, exports, name, f);
}

/* Constants TypeScript needs; taken from the C headers so they can never drift. */
static void constants(napi_env env, napi_value exports) {
  napi_value c;
  napi_create_object(env, &c);
#define K(name) set_named(env, c, #name, sdk_int(env, name))
  K(AF_UNIX); K(AF_INET); K(AF_INET6); K(AF_UNSPEC);
  K(SOCK_STREAM); K(SOCK_DGRAM); K(SOCK_SEQPACKET); K(SOCK_RAW); K(SOCK_CLOEXEC); K(SOCK_NONBLOCK);
  K(SOL_SOCKET); K(SO_TYPE); K(SO_ACCEPTCONN); K(SO_DOMAIN); K(SO_PROTOCOL); K(SO_REUSEPORT);
  K(SO_REUSEADDR); K(SO_PASSCRED); K(SO_SNDBUF); K(SO_RCVBUF); K(SO_SNDBUFFORCE);
  K(IPPROTO_IPV6); K(IPV6_V6ONLY); K(IPPROTO_TCP); K(IPPROTO_UDP);
  K(MSG_TRUNC); K(MSG_CTRUNC); K(MSG_DONTWAIT);
  K(O_CLOEXEC); K(O_NONBLOCK);
  K(S_IFMT); K(S_IFSOCK); K(S_IFIFO); K(S_IFREG); K(S_IFCHR); K(S_IFDIR); K(S_IFLNK);
  K(LOCK_SH); K(LOCK_EX); K(LOCK_NB); K(LOCK_UN);
  K(FD_CLOEXEC);
  set_named(env, c, "SCM_MAX_FD", sdk_int(env, SDK_MAX_FDS));
#undef K
  napi_set_named_property(env, exports, "constants", c);
}

static napi_value init(napi_env env, napi_value exports) {
  sdk_register_fd(env, exports);
  sdk_register_sock(env, exports);
  sdk_register_msg(env, exports);
  sdk_register_poll(env, exports);
  sdk_register_exec(env, exports);
  constants(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
