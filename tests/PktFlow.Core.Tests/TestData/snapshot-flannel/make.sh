#!/bin/sh
# Rebuilds snap/ (needs root) from lab.sh built for real in the namespaces snaptun-*.
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/../snapshot/make.sh" "$here/lab.sh" "$here/snap" snaptun-
