#!/usr/bin/env bash
# Runs the evloop benchmarks: builds the contestants and load generators into
# a temporary directory, then runs cmd/runner with the arguments given.
#
#   benchmarks/run.sh -quick                  smoke test (CI): every contestant
#                                             starts and answers correctly; < 2 min
#   benchmarks/run.sh                         full run: all scenarios, 3 rounds,
#                                             pinned and unpinned; writes
#                                             results/results.json, then the
#                                             README table and results/*.png
#   benchmarks/run.sh -scenario http-c100-p16 -rounds 5 -duration 10s -mode pinned -out /tmp/r.json
#   benchmarks/run.sh -update results/results.json -scenario http-c100 -mode pinned
#                                             re-run one scenario of the full run
#                                             (relative paths are from benchmarks/)
#
# Every runner flag is listed by: benchmarks/run.sh -h
# Needs Go and wrk (apt-get install -y wrk), and cc for the C contestant
# (skipped without it); redis-server (apt-get install -y redis-server) for
# the RESP scenarios' reference, skipped without it. Every process it starts is stopped by its PID when
# it ends or is interrupted.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

bin="$(mktemp -d "${TMPDIR:-/tmp}/evloop-bench-bin.XXXXXX")"
runner_pid=""
cleanup() {
  if [ -n "$runner_pid" ]; then
    # The runner stops its own children by PID when it gets SIGTERM.
    kill -TERM "$runner_pid" 2>/dev/null || true
    wait "$runner_pid" 2>/dev/null || true
  fi
  rm -rf "$bin"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v wrk >/dev/null 2>&1; then
  echo "run.sh: wrk not found; install it with: apt-get install -y wrk" >&2
  exit 1
fi

# The default results file, and the only one whose tables and charts are
# written into README.md and results/ afterwards.
default_out="$here/results/results.json"
quick=false
results_file=""   # set by -out or -update
prev=""
for arg in "$@"; do
  case "$arg" in
    -quick|--quick|-quick=true|--quick=true) quick=true ;;
    -out=*|--out=*|-update=*|--update=*) results_file="${arg#*=}" ;;
  esac
  case "$prev" in
    -out|--out|-update|--update) results_file="$arg" ;;
  esac
  prev="$arg"
done

echo "building into $bin"
go build -o "$bin/" ./contestants/... ./cmd/echoload ./cmd/udpload ./cmd/firehose ./cmd/holdconns ./cmd/runner
# evloop's Redis example (the main module's, through the replace in go.mod)
# is the evloop contestant of the RESP scenarios.
go build -o "$bin/evloopredis" github.com/evloop/evloop/examples/redis
# The evloop contestant again on the portable backend (package net beneath
# the same engine, as on Windows), to show what it costs.
go build -tags evloop_portable -o "$bin/evloopportable" ./contestants/evloop
# The C reference contestant needs a C compiler; without one the runner
# skips it and says so.
if command -v cc >/dev/null 2>&1; then
  cc -O2 -o "$bin/cepoll" contestants/cepoll/main.c
else
  echo "run.sh: no C compiler (cc): the cepoll contestant is not built and will be skipped" >&2
fi

args=(-bin "$bin" -wrk-script "$here/wrk/http.lua")
if [ "$quick" = false ] && [ -z "$results_file" ]; then
  mkdir -p results
  results_file="$default_out"
  args+=(-out "$results_file")
fi

status=0
"$bin/runner" "${args[@]}" "$@" &
runner_pid=$!
wait "$runner_pid" || status=$?
runner_pid=""

if [ "$status" -eq 0 ] && [ "$quick" = false ] &&
   [ "$(realpath -m "$results_file")" = "$(realpath -m "$default_out")" ]; then
  go run ./cmd/report -in "$default_out" -readme README.md -png results
fi
exit "$status"
