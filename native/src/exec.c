/* execve for in-place re-exec (Node 20 has no process.execve). Returns only on failure. The
 * caller (TypeScript) clears FD_CLOEXEC/O_NONBLOCK on the fds the new image must keep. */
#include "glue.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char **str_array(napi_env env, napi_value arr) {
  uint32_t n;
  if (napi_get_array_length(env, arr, &n) != napi_ok) return NULL;
  char **out = calloc(n + 1, sizeof *out);
  if (!out) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    size_t len;
    if (napi_get_element(env, arr, i, &e) != napi_ok ||
        napi_get_value_string_utf8(env, e, NULL, 0, &len) != napi_ok ||
        !(out[i] = malloc(len + 1)) ||
        napi_get_value_string_utf8(env, e, out[i], len + 1, &len) != napi_ok) {
      for (uint32_t j = 0; j <= i; j++) free(out[j]);
      free(out);
      return NULL;
    }
  }
  return out;
}

static void free_array(char **a) {
  if (!a) return;
  for (char **p = a; *p; p++) free(*p);
  free(a);
}

static napi_value js_execve(napi_env env, napi_callback_info info) {
  ARGS(3);
  char path[4097];
  size_t len;
  CHECK(napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len));
  char **av = str_array(env, argv[1]);
  char **ev = str_array(env, argv[2]);
  int err = EINVAL;
  if (av && ev) {
    execve(path, av, ev);
    err = errno;
  }
  free_array(av);
  free_array(ev);
  return sdk_int(env, -err);
}

void sdk_register_exec(napi_env env, napi_value exports) {
  sdk_register(env, exports, "execve", js_execve);
}
