#!/bin/sh
# Builds native/test/driver.c against native/src/sys.c with debug info and runs it under
# valgrind memcheck. Exit status: the driver's (failed checks) or valgrind's (memory errors,
# definite leaks). Usage: native/test/run-valgrind.sh [build-dir]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(mktemp -d "${TMPDIR:-/tmp}/sdkit-valgrind.XXXXXX")}
mkdir -p "$out"
gcc -g -O0 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
  -o "$out/driver" "$here/driver.c" "$here/../src/sys.c"
exec valgrind --tool=memcheck --leak-check=full --error-exitcode=1 \
  --errors-for-leak-kinds=definite --quiet "$out/driver"
