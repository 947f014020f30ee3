/* Argument and result helpers for the Node-API glue. The glue never throws for a failed
 * syscall: it returns -errno as a number and TypeScript builds the error object. It throws a
 * TypeError only for arguments of the wrong JS type (a programming error in sdkit itself). */
#ifndef SDKIT_GLUE_H
#define SDKIT_GLUE_H
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include "sys.h"

#define CHECK(call)                                                             \
  do {                                                                          \
    if ((call) != napi_ok) {                                                    \
      const napi_extended_error_info *_i = NULL;                                \
      napi_get_last_error_info(env, &_i);                                       \
      bool _p = false;                                                          \
      napi_is_exception_pending(env, &_p);                                      \
      if (!_p) napi_throw_error(env, "ERR_SD_NATIVE", _i && _i->error_message   \
                                                       ? _i->error_message      \
                                                       : "Node-API call failed"); \
      return NULL;                                                              \
    }                                                                           \
  } while (0)

#define ARGS(n)                                                                 \
  size_t argc = (n);                                                            \
  napi_value argv[(n) > 0 ? (n) : 1];                                           \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));                  \
  if (argc < (n)) {                                                             \
    napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "missing argument");       \
    return NULL;                                                                \
  }

napi_value sdk_int(napi_env env, int64_t v);
/* Argument readers: each returns 0, or -1 after throwing TypeError ERR_SD_NATIVE_ARGS. */
/* A number that is exactly an int32 (NaN, 1.5 or 2**32+1 must never become fd 0 or 1). */
int sdk_arg_int(napi_env env, napi_value v, int *out);
int sdk_arg_bool(napi_env env, napi_value v, bool *out);
/* Copies a string without NULs into buf; returns 1 (nothing thrown) if it needs cap bytes or more. */
int sdk_arg_str(napi_env env, napi_value v, char *buf, size_t cap);
/* Copies a Buffer/Uint8Array argument: returns its data pointer and length (no copy). */
int sdk_arg_bytes(napi_env env, napi_value v, void **data, size_t *len);
/* A Float64Array argument with at least min elements: its data (results are written there, so
 * a call that runs hundreds of times at start-up allocates no array or object). */
int sdk_arg_f64s(napi_env env, napi_value v, double **data, size_t min);
/* Reads a JS array of fd numbers into out (at most max). Returns count or -1. */
int sdk_arg_fds(napi_env env, napi_value v, int *out, size_t max);
/* Decodes an sdk_addr into { family, address, port } (inet) or { family, path: Buffer } (unix). */
napi_value sdk_addr_to_js(napi_env env, const sdk_addr *a);
/* An sdk_addr as one value: inet address text (port stored in *port), AF_UNIX path bytes as a
 * Buffer, or the number 1 for other families. */
napi_value sdk_addr_text(napi_env env, const sdk_addr *a, double *port);
/* Encodes { family, address, port } or { family, path: Buffer } into an sdk_addr. */
int sdk_addr_from_js(napi_env env, napi_value v, sdk_addr *a);

void sdk_register(napi_env env, napi_value exports, const char *name, napi_callback fn);
void sdk_register_fd(napi_env env, napi_value exports);
void sdk_register_sock(napi_env env, napi_value exports);
void sdk_register_msg(napi_env env, napi_value exports);
void sdk_register_poll(napi_env env, napi_value exports);
void sdk_register_exec(napi_env env, napi_value exports);
#endif
