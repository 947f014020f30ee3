/* A libuv poll watcher on a raw fd, so TypeScript can wait for readability/writability of
 * sockets Node cannot wrap (Unix datagram sockets) without a busy loop or a blocked thread.
 *
 * Lifetime: pollStart returns an external owning a `poller`. pollStop closes the uv handle;
 * the memory is freed only once both the handle is closed and the external was collected, so
 * a late pollStop/pollRef on a stopped poller is a harmless no-op, never a use-after-free. */
#include "glue.h"
#include <stdlib.h>
#include <uv.h>

typedef struct {
  uv_poll_t h;
  napi_env env;
  napi_ref cb;
  napi_async_context actx;
  int active;    /* uv handle started and not yet closing */
  int closed;    /* uv_close callback ran */
  int finalized; /* the JS external was garbage-collected */
} poller;

static void on_close(uv_handle_t *h) {
  poller *p = h->data;
  p->closed = 1;
  if (p->finalized) free(p);
}

static void stop(poller *p) {
  if (!p->active) return;
  p->active = 0;
  uv_poll_stop(&p->h);
  napi_delete_reference(p->env, p->cb);
  napi_async_destroy(p->env, p->actx);
  uv_close((uv_handle_t *)&p->h, on_close);
}

/* At environment teardown only stop watching: the loop is going away with the process. */
static void env_cleanup(void *arg) {
  poller *p = arg;
  if (p->active) {
    p->active = 0;
    uv_poll_stop(&p->h);
  }
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  poller *p = data;
  p->finalized = 1;
  if (p->active) {
    napi_remove_env_cleanup_hook(p->env, env_cleanup, p);
    stop(p);
  } else if (p->closed || !uv_is_active((uv_handle_t *)&p->h)) {
    if (p->closed) free(p);
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  poller *p = h->data;
  if (!p->active) return;
  napi_env env = p->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, args[2], result;
  napi_get_reference_value(env, p->cb, &cb);
  napi_get_global(env, &recv); /* make_callback needs an object receiver */
  napi_create_int32(env, status, &args[0]);
  napi_create_int32(env, events, &args[1]);
  if (napi_make_callback(env, p->actx, recv, cb, 2, args, &result) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err); /* -> process 'uncaughtException', like any callback */
  }
  napi_close_handle_scope(env, scope);
}

/* pollStart(fd, events, cb(status, events)) -> handle | -errno; events: 1 readable, 2 writable */
static napi_value js_poll_start(napi_env env, napi_callback_info info) {
  ARGS(3);
  int fd, events;
  if (sdk_arg_int(env, argv[0], &fd) < 0 || sdk_arg_int(env, argv[1], &events) < 0) return NULL;
  napi_valuetype t;
  if (napi_typeof(env, argv[2], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "expected a callback function");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  poller *p = calloc(1, sizeof *p);
  if (!p) return sdk_int(env, -12 /* ENOMEM */);
  int r = uv_poll_init(loop, &p->h, fd);
  if (r < 0) { free(p); return sdk_int(env, r); }
  p->h.data = p;
  p->env = env;
  napi_value name, ext;
  napi_create_string_utf8(env, "sdkit.poll", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[2], 1, &p->cb);
  napi_async_init(env, NULL, name, &p->actx);
  r = uv_poll_start(&p->h, events & (UV_READABLE | UV_WRITABLE | UV_DISCONNECT), on_poll);
  p->active = 1;
  if (r < 0) {
    stop(p);
    p->finalized = 1; /* no external will ever own it */
    return sdk_int(env, r);
  }
  napi_add_env_cleanup_hook(env, env_cleanup, p);
  CHECK(napi_create_external(env, p, finalize, NULL, &ext));
  return ext;
}

static poller *arg_poller(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) {
    napi_throw_type_error(env, "ERR_SD_NATIVE_ARGS", "expected a poll handle");
    return NULL;
  }
  return data;
}

static napi_value js_poll_update(napi_env env, napi_callback_info info) {
  ARGS(2);
  poller *p = arg_poller(env, argv[0]);
  int events;
  if (!p || sdk_arg_int(env, argv[1], &events) < 0) return NULL;
  if (!p->active) return sdk_int(env, 0);
  return sdk_int(env, uv_poll_start(&p->h, events & (UV_READABLE | UV_WRITABLE | UV_DISCONNECT), on_poll));
}

static napi_value js_poll_stop(napi_env env, napi_callback_info info) {
  ARGS(1);
  poller *p = arg_poller(env, argv[0]);
  if (!p) return NULL;
  if (p->active) {
    napi_remove_env_cleanup_hook(env, env_cleanup, p);
    stop(p);
  }
  return sdk_int(env, 0);
}

/* pollRef(handle, on): whether this watcher alone keeps the event loop alive. */
static napi_value js_poll_ref(napi_env env, napi_callback_info info) {
  ARGS(2);
  poller *p = arg_poller(env, argv[0]);
  bool on;
  if (!p || sdk_arg_bool(env, argv[1], &on) < 0) return NULL;
  if (p->active) {
    if (on) uv_ref((uv_handle_t *)&p->h);
    else uv_unref((uv_handle_t *)&p->h);
  }
  return sdk_int(env, 0);
}

void sdk_register_poll(napi_env env, napi_value exports) {
  sdk_register(env, exports, "pollStart", js_poll_start);
  sdk_register(env, exports, "pollUpdate", js_poll_update);
  sdk_register(env, exports, "pollStop", js_poll_stop);
  sdk_register(env, exports, "pollRef", js_poll_ref);
}
