#!/usr/bin/env bash
# Runs every benchmark against the build in $1 (default: build). Figures go
# to stdout; docs/performance.md records them with the machine they ran on.
set -euo pipefail
BUILD=${1:-build}
echo "== machine"; nproc; grep -m1 "model name" /proc/cpuinfo || true; free -h | head -2
echo "== dispatch: 2000 no-op builds on 1 and 4 slaves"; "$BUILD/bench/dispatch_bench" 2000 1 4
echo "== log streaming: one step printing 100 MB"; "$BUILD/bench/log_bench" 100
echo "== connection scale: 2000 and 10000 idle slaves"; "$BUILD/bench/connection_scale_bench" 2000 10000
echo "== lock contention: 1000 builds, 8 slaves, counting lock of 3"; "$BUILD/bench/contention_bench"
echo "== schedulers: 100000 changes through 20 filtered schedulers"; "$BUILD/bench/scheduler_bench" 100000
echo "== schedulers through a real buildmaster: 100000 sendchanges"; "$BUILD/bench/scheduler_master_bench" 100000
echo "== cleanupdb: 100000 old builds"; "$BUILD/bench/cleanup_bench" 100000
echo "== database layer"; "$BUILD/bench/db_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
echo "== forge webhooks: 2000 signed pushes, 4 clients"; "$BUILD/bench/webhook_bench" 2000 4
echo "== git poller: 50 branches of a 100000-commit repository"; "$BUILD/bench/git_poller_bench" 100000 50 1000
echo "== buildbot try: try to build start per path, 1000 jobs at once"; "$BUILD/bench/try_bench" 20 1000
echo "== file transfer: a 200 MiB artifact up and down, against cp"; "$BUILD/bench/transfer_bench" 200
echo "== web: 100000 builds listed, a 100 MB raw log, 1000 idle SSE clients, dispatch with 20 SSE clients"; "$BUILD/bench/web_bench"
