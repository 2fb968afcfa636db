#!/usr/bin/env bash
# Fuzzes the EDIFACT reader and validator (Sources/EDIFACTFuzz) with libFuzzer + AddressSanitizer.
#
#   scripts/fuzz.sh [SECONDS]     (default 60; FUZZ_JOBS=N runs N workers with -fork;
#                                  FUZZ_CONFIG=release builds optimized: about 3x the executions per second)
#
# The working corpus lives in .build-fuzz/corpus (seeded from every test fixture and fuzz/seeds/);
# crash, leak, timeout and OOM inputs go to fuzz-artifacts/. Exits non-zero on any finding and prints
# the artifact path; replay one with a plain build: `swift build --product EDIFACTFuzz &&
# .build/debug/EDIFACTFuzz fuzz-artifacts/crash-...` (same checks, readable backtrace).
set -euo pipefail

seconds="${1:-60}"
jobs="${FUZZ_JOBS:-1}"
config="${FUZZ_CONFIG:-debug}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# `--sanitize=fuzzer` alone links libFuzzer but (SwiftPM 6.3.1) compiles the modules with only
# -sanitize=address: no coverage counters in EDIFACT, and libFuzzer mutates blindly. Passing the
# sanitizers to the compiler as well instruments every module (checked below before fuzzing).
build_flags=(--product EDIFACTFuzz --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address
             -Xswiftc -parse-as-library -Xswiftc -DEDIFACT_LIBFUZZER --scratch-path .build-fuzz)
[[ "$config" == release ]] && build_flags+=(-c release)
echo "== building EDIFACTFuzz ($config) with libFuzzer + ASan"
set +e
swift build "${build_flags[@]}" 2>&1 | grep -v "Cannot export local symbol '__asan"
build_rc=${PIPESTATUS[0]}
set -e
[[ $build_rc == 0 ]] || { echo "fuzz.sh: swift build failed ($build_rc)" >&2; exit 2; }
bin="$(swift build "${build_flags[@]}" --show-bin-path)/EDIFACTFuzz"
[[ -x "$bin" ]] || { echo "fuzz.sh: build failed, no $bin" >&2; exit 2; }
scanner_o="$(dirname "$bin")/EDIFACT.build/Scanner.swift.o"
if ! grep -q __sancov_cntrs <(readelf -S "$scanner_o" 2>/dev/null); then
    echo "fuzz.sh: $scanner_o has no coverage counters: EDIFACT is not instrumented, fuzzing would be blind" >&2
    exit 3
fi

corpus=.build-fuzz/corpus
artifacts=fuzz-artifacts
mkdir -p "$corpus" "$artifacts"
# Seeds are copied under their content hash, so re-seeding never duplicates an input.
while IFS= read -r -d '' f; do
    cp "$f" "$corpus/$(sha1sum "$f" | cut -c1-40)"
done < <(find Tests/EDIFACTTests/Fixtures fuzz/seeds -type f -name '*.edi' -print0)

marker="$(mktemp)"
trap 'rm -f "$marker"' EXIT
echo "== fuzzing for ${seconds}s (corpus $(ls "$corpus" | wc -l) inputs, $jobs job(s))"
fork_flags=()
[[ "$jobs" -gt 1 ]] && fork_flags=(-fork="$jobs" -ignore_crashes=0)
log=.build-fuzz/fuzz.log
set +e
# SWIFT_BACKTRACE=enable=no: the Swift runtime's backtracer otherwise races libFuzzer's crash handler
# on a trap and can hang (seen: swift-backtrace stuck for 10 minutes); libFuzzer/ASan print the stack.
SWIFT_BACKTRACE=enable=no "$bin" "$corpus" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
    -dict=fuzz/edifact.dict -artifact_prefix="$artifacts/" -print_final_stats=1 \
    "${fork_flags[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
if grep -q "Is the code instrumented for coverage" "$log"; then
    echo "fuzz.sh: libFuzzer saw no coverage: the build is not instrumented (rm -rf .build-fuzz and retry)" >&2
    exit 3
fi

found="$(find "$artifacts" -type f -newer "$marker" \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) | sort)"
if [[ $rc -ne 0 || -n "$found" ]]; then
    echo "== FUZZING FOUND A PROBLEM (libFuzzer exit $rc)" >&2
    if [[ -n "$found" ]]; then
        while IFS= read -r a; do echo "artifact: $root/$a" >&2; done <<< "$found"
        echo "replay:   swift build --product EDIFACTFuzz && .build/debug/EDIFACTFuzz <artifact>" >&2
    fi
    exit $(( rc == 0 ? 1 : rc ))
fi
echo "== no crash, leak or timeout in ${seconds}s"
