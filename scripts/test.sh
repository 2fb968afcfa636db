#!/usr/bin/env bash
# The whole test suite, as CI runs it: set up, build debug and release (some header problems show
# only in release), fuzz the EDIFACT reader for a bounded time, run every test (the store suites on SQLite and
# PostgreSQL), then the pipeline suites once more with every spool on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-test-deps.sh
export SWG_ORACLE_DIR="${SWG_ORACLE_DIR:-/var/tmp/swg-oracles}"

echo "== build (release)"
swift build -c release 2>&1 | grep -v 'prohibited flag' | tail -3
echo "== build (debug, with tests)"
swift build --build-tests 2>&1 | grep -v 'prohibited flag' | tail -3
echo "== fuzz the EDIFACT reader (${SWG_FUZZ_SECONDS:-60} s)"
./scripts/fuzz.sh "${SWG_FUZZ_SECONDS:-60}"
echo "== tests"
# `swift test` exits non-zero on a failure; with pipefail, so does this script.
swift test --skip-build 2>&1 | grep -v 'prohibited flag'
echo "== the pipeline suites again, on PostgreSQL (SWG_TEST_STORE=postgres: each spool's store is a fresh database)"
SWG_TEST_STORE=postgres swift test --skip-build --filter \
  'PipelineEndToEndTests|RoutingPipelineTests|VerdictPipelineTests|XMLIntakeTests|SignedIntakeTests|RerunTests|OperatorCommandsTests|StatsTests|CollectedTests|RunOnceTests' \
  2>&1 | grep -v 'prohibited flag'
