#!/bin/sh
# Rebuilds the committed test objects (clang 14 from Debian's llvm-14; the .o files are committed so
# the tests run without clang).
set -e
cd "$(dirname "$0")"
CLANG=${CLANG:-/usr/lib/llvm-14/bin/clang}
for c in *.c; do
    "$CLANG" -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c "$c" -o "${c%.c}.o"
done
