/* execve for in-place re-exec (Node 20 has no process.execve). Returns only on failure. The
 * caller (TypeScript) clears FD_CLOEXEC/O_NONBLOCK on the fds the new image must keep. */
#include "glue.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void free_array(char **a);

/* A JS array of strings as a NULL-terminated C array. NULL with TypeError ERR_SD_NATIVE_ARGS
 * pending for a non-array, a non-string or a string with a NUL; NULL without one on ENOMEM. */
static char **str_array(napi_env env, napi_value arr) {
  bool is;
  uint32_t n;
  if (napi_is_array(env, arr, &is) != napi_ok || !is || napi_get_array_length(env, arr, &n) != napi_ok) {
    napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "expected an array of strings");
    return NULL;
  }
  char **out = calloc(n + 1, sizeof *out);
  if (!out) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    size_t len;
    if (napi_get_element(env, arr, i, &e) != napi_ok || napi_get_value_string_utf8(env, e, NULL, 0, &len) != napi_ok) {
      napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "expected an array of strings");
      free_array(out);
      return NULL;
    }
    if (!(out[i] = malloc(len + 1))) { free_array(out); return NULL; }
    int r = sdk_arg_str(env, e, out[i], len + 1);
    if (r != 0) { free_array(out); return NULL; } /* r < 0: NUL inside, TypeError pending */
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
  int r = sdk_arg_str(env, argv[0], path, sizeof path);
  if (r < 0) return NULL;
  char **av = str_array(env, argv[1]);
  char **ev = av ? str_array(env, argv[2]) : NULL;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  int err = r > 0 ? ENAMETOOLONG : ENOMEM;
  if (av && ev && r == 0) {
    execve(path, av, ev);
    err = errno;
  }
  free_array(av);
  free_array(ev);
  return pending ? NULL : sdk_int(env, -err);
}

void sdk_register_exec(napi_env env, napi_value exports) {
  sdk_register(env, exports, "execve", js_execve);
}
