{
  "targets": [
    {
      "target_name": "sdkit",
      "sources": [
        "native/src/addon.c",
        "native/src/sys.c",
        "native/src/fd.c",
        "native/src/sock.c",
        "native/src/msg.c",
        "native/src/poll.c",
        "native/src/exec.c"
      ],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-O2", "-std=gnu11"]
    }
  ]
}
