#!/bin/bash
# fetch-systemd-254.sh [DIR]: extract systemd 254 from Debian's bookworm-backports into DIR/root,
# so the test harness can run a newer user manager (Type=notify-reload, FileDescriptorStorePreserve=,
# systemd-notify --fd/--fdname) beside the installed 252. Nothing is installed; the host is unchanged.
#
# Idempotent: a complete extraction is marked by DIR/root/.complete and reused. The extraction goes
# to a temporary dir and is renamed into place, so concurrent runs (parallel test files) never see
# a half-written tree. The archive address comes from the machine's own apt configuration.
#
# Prints DIR/root on success. Default DIR: $SDKIT_SYSTEMD254_DIR or /var/cache/sdkit-systemd254.
set -euo pipefail
DIR=${1:-${SDKIT_SYSTEMD254_DIR:-/var/cache/sdkit-systemd254}}
ROOT="$DIR/root"
MANAGER="$ROOT/lib/systemd/systemd"

if [ -f "$ROOT/.complete" ] && [ -x "$MANAGER" ]; then echo "$ROOT"; exit 0; fi

mkdir -p "$DIR"
# One fetch at a time; a second caller waits, then finds the finished tree.
exec 9>"$DIR/.lock"
flock -w 600 9
if [ -f "$ROOT/.complete" ] && [ -x "$MANAGER" ]; then echo "$ROOT"; exit 0; fi

src=/etc/apt/sources.list.d/debian.sources
uri=""
[ -r "$src" ] && uri=$(awk '/^URIs:/{print $2; exit}' "$src")
if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
  uri=$(awk '$1=="deb" && $0 ~ /debian\/? / {for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
fi
[ -n "$uri" ] || { echo "fetch-systemd-254: no Debian archive URI in the apt configuration" >&2; exit 1; }

work=$(mktemp -d "$DIR/tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/debs" "$work/root"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm-backports main" > "$work/backports.list"
A=(-o Dir::Etc::sourcelist="$work/backports.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$work/lists"
   -o Dir::Cache::archives="$work/debs" -o APT::Sandbox::User=root)
apt-get "${A[@]}" update -qq >&2
(cd "$work/debs" && apt-get "${A[@]}" download -qq \
  systemd/bookworm-backports libsystemd-shared/bookworm-backports libsystemd0/bookworm-backports >&2)
for d in "$work"/debs/*.deb; do dpkg-deb -x "$d" "$work/root"; done
lib="$work/root/usr/lib/x86_64-linux-gnu/systemd"
[ -d "$lib" ] || lib=$(dirname "$(find "$work/root/usr/lib" -name 'libsystemd-shared-*.so' | head -n1)")
ver=$(LD_LIBRARY_PATH="$lib" "$work/root/lib/systemd/systemd" --version | awk 'NR==1{print $2}')
case "$ver" in 25[4-9]*|2[6-9][0-9]*) ;; *) echo "fetch-systemd-254: unexpected version '$ver'" >&2; exit 1 ;; esac
# Relative to root, so the tree stays valid after the rename below.
echo "${lib#"$work/root/"}" > "$work/root/.libdir"
touch "$work/root/.complete"
rm -rf "$ROOT.old"; [ -e "$ROOT" ] && mv "$ROOT" "$ROOT.old"
mv "$work/root" "$ROOT"
rm -rf "$ROOT.old"
echo "$ROOT"
