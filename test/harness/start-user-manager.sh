#!/bin/bash
# start-user-manager.sh RT [SYSTEMD_ROOT]
#
# Starts a real systemd *user* manager (as root) on a machine whose PID 1 is not systemd, in the
# foreground; background it. Recipe: /work/shared/notes/real-systemd-harness.md §2a and §6.
# The pid of this script IS the manager's pid (a chain of execs), and its cgroup is sdtest-<pid>.
#
#   RT            XDG_RUNTIME_DIR of the manager; unit files go to RT/units (created here)
#   SYSTEMD_ROOT  optional extracted systemd tree (scripts/fetch-systemd-254.sh); default: installed
#
# Env: SD_LOG_LEVEL (default info), SD_LOG_TARGET (default console); SDTEST_OWNER_FD and
# SDTEST_CLEANUP_DIR (see 1b).
set -euo pipefail
RT=$1
SYSROOT=${2:-}
CG=sdtest-$$

# 1) Own cgroup (unified + name=systemd) BEFORE the manager starts: otherwise it adopts "/" as its
#    root and migrates every host process, PID 1 included, into /init.scope.
#    Same hierarchy choice as cgroup.ts: pure cgroup2, or hybrid unified + name=systemd.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  HIER=(/sys/fs/cgroup)
else
  [ -f /sys/fs/cgroup/systemd/cgroup.procs ] || { echo "start-user-manager: no name=systemd cgroup hierarchy; refusing to start" >&2; exit 1; }
  HIER=(/sys/fs/cgroup/systemd)
  [ -f /sys/fs/cgroup/unified/cgroup.procs ] && HIER+=(/sys/fs/cgroup/unified)
fi
for d in "${HIER[@]}"; do mkdir -p "$d/$CG"; done

# 1b) Owner watcher (only when SDTEST_OWNER_FD names an fd whose other end the test process
#     holds), forked while still outside the new cgroup so it can remove it. When that fd reads
#     EOF (stop() closed it, or the test process died, even by SIGKILL where no 'exit' handler
#     runs), it kills whatever is left in sdtest-<pid> and removes the cgroups and
#     SDTEST_CLEANUP_DIR.
if [ -n "${SDTEST_OWNER_FD:-}" ]; then
  setsid /bin/bash -c '
    fd=$1 cg=$2 cleanup=$3; shift 3
    while read -r -u "$fd" _; do :; done
    for _ in $(seq 300); do
      left=0
      for h in "$@"; do
        [ -d "$h/$cg" ] || continue
        left=1
        [ -f "$h/$cg/cgroup.kill" ] && echo 1 > "$h/$cg/cgroup.kill"
        find "$h/$cg" -name cgroup.procs -exec cat {} + | xargs -r kill -9
        find "$h/$cg" -depth -type d -exec rmdir {} +
      done
      [ "$left" = 0 ] && break
      sleep 0.1
    done
    [ -z "$cleanup" ] || rm -rf "$cleanup"
  ' sdtest-watcher "$SDTEST_OWNER_FD" "$CG" "${SDTEST_CLEANUP_DIR:-}" "${HIER[@]}" </dev/null >/dev/null 2>&1 &
  eval "exec ${SDTEST_OWNER_FD}<&-"   # the manager must not hold it
fi

for d in "${HIER[@]}"; do echo $$ > "$d/$CG/cgroup.procs"; done

# 2) Unit isolation: only units from RT/units, so Debian's user units (dbus.socket, gpg-agent...)
#    stay out. The default dependencies then need stub targets; exit.target and
#    systemd-exit.service make `systemctl --user exit` work.
mkdir -p -m 700 "$RT"; mkdir -p "$RT/units"
export SYSTEMD_UNIT_PATH="$RT/units"
for t in default basic sockets shutdown timers paths; do
  [ -e "$RT/units/$t.target" ] || printf '[Unit]\nDescription=stub %s\n' "$t" > "$RT/units/$t.target"
done
cp -n /usr/lib/systemd/user/exit.target /usr/lib/systemd/user/systemd-exit.service "$RT/units/"

# 3) Which manager binary. An extracted tree runs through the dynamic loader with --library-path,
#    not LD_LIBRARY_PATH, so the services it starts do not inherit the newer libraries.
if [ -n "$SYSROOT" ]; then
  ld=""
  for f in /lib64/ld-linux-*.so.* /lib/ld-linux-*.so.*; do [ -x "$f" ] && { ld=$f; break; }; done
  [ -n "$ld" ] || { echo "start-user-manager: no dynamic loader found" >&2; exit 1; }
  MANAGER=("$ld" --library-path "$SYSROOT/$(cat "$SYSROOT/.libdir")" "$SYSROOT/lib/systemd/systemd")
else
  MANAGER=(/usr/lib/systemd/systemd)
fi
export XDG_RUNTIME_DIR="$RT"

# 4) Private mount namespace: sd_booted() only checks that /run/systemd/system/ exists, so fake it
#    there and only there; the host's /run/systemd is never touched.
exec unshare --mount --propagation private /bin/bash -c '
  set -e
  mount -t tmpfs -o mode=755 tmpfs /run/systemd
  mkdir -p /run/systemd/system
  exec "$@" --user --log-level="${SD_LOG_LEVEL:-info}" --log-target="${SD_LOG_TARGET:-console}"
' start-user-manager "${MANAGER[@]}"
