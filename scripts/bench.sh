#!/usr/bin/env bash
# make bench: the benchmark of BENCHMARKS.md (see cmd/meshbench for the knobs:
# BENCH_N, BENCH_MIXED, BENCH_RUNS, BENCH_RUNS_LARGE, BENCH_PEERS,
# BENCH_BACKEND, BENCH_PPROF_N, BENCH_KEEP, BENCH_PROVIDER_SRC). It builds
# what it needs (cluster binaries, terraform-provider-kubectl v1.19.0, the
# provider) and starts and stops a local control plane of its own.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=$(scripts/cluster-tools.sh)
export MESH_CLUSTER_BIN=$bin
go build -o bin/meshbench ./cmd/meshbench
exec bin/meshbench
