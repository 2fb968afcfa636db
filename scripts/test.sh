#!/usr/bin/env bash
# The whole test suite, as CI runs it: set up, build debug and release (some header problems show
# only in release), run every test, then fuzz the EDIFACT reader for a bounded time.
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
swift test --skip-build 2>&1 | grep -v 'prohibited flag'
