#!/usr/bin/env bash
# Installs what only the benchmark needs: Debian's libsystemd-dev (the npm package sd-notify
# links libsystemd and compiles at install time) and wrk (the HTTP load generator), then the
# competitor packages into bench/node_modules. The root package never needs any of this, so
# `npm ci` and the test suite stay free of libsystemd-dev. `npm run bench` calls this script
# when bench/node_modules is missing; run it by hand to refresh.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
dpkg -s libsystemd-dev >/dev/null 2>&1 || missing+=(libsystemd-dev)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
# node-gyp needs a compiler and python3 to build sd-notify and unix-dgram.
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bench/setup.sh: missing Debian packages: ${missing[*]} (run as root, or install them yourself)" >&2
    exit 1
  fi
  echo "bench/setup.sh: apt-get install ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# bench/.npmrc carries nodedir=/usr, so node-gyp builds the two addons against the installed
# Node headers without downloading them. `ci` when a lockfile exists: reproducible versions.
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi

# Fail here, with a clear message, rather than in the middle of a run.
node -e 'require("sd-notify"); require("unix-dgram"); require("pm2/package.json")' \
  || { echo "bench/setup.sh: a competitor package does not load" >&2; exit 1; }
echo "bench/setup.sh: ready" >&2
