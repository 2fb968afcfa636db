#!/usr/bin/env bash
# Mutation probe of the manifest path (issue 6): N mutated carrier manifests (scripts/lib/mutate-manifests.py:
# hostile and near-valid codes, numbers and text; segments or elements duplicated, dropped, swapped) dropped on
# a spool with the sample configuration's routing, one `gateway run --once --json`. Every file must be answered:
# accepted or rejected (or, for a cut XML document, waiting as an upload in progress). A file that fails is a
# defect: a value the mapping let through that the library or an agency's copy refuses.
# Session 10 found four such defects this way; `scripts/test.sh` keeps their cases as tests.
#
#   scripts/probe-manifests.sh [--kind cuscar|xml] [--files N] [--seed S] [--keep]
#
# Defaults: cuscar, 3000 files, seed 1. CUSCAR mutants start from route-bench's manifests (3 of 4
# consignments, D95B and D96A); XML ones from the shipped sample (Tests/GatewayTests/Fixtures/manifest).
# GATEWAY_BIN=PATH and ROUTE_BENCH_BIN=PATH use prebuilt executables instead of building (release).
# Exit status: 0 when every file was answered, 1 when some failed, 2 on a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."
KIND=cuscar FILES=3000 SEED=1 KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --kind) KIND="$2"; shift 2 ;;
    --files) FILES="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "probe-manifests: unexpected '$1'" >&2; exit 2 ;;
  esac
done
case "$KIND" in cuscar|xml) ;; *) echo "probe-manifests: --kind is cuscar or xml" >&2; exit 2 ;; esac
if [ -z "${GATEWAY_BIN:-}" ]; then swift build -c release --product gateway 2>&1 | grep -v 'prohibited flag' | tail -1; fi
if [ -z "${ROUTE_BENCH_BIN:-}" ] && [ "$KIND" = cuscar ]; then
  swift build -c release --product route-bench 2>&1 | grep -v 'prohibited flag' | tail -1
fi
GW="${GATEWAY_BIN:-$PWD/.build/release/gateway}"
RB="${ROUTE_BENCH_BIN:-$PWD/.build/release/route-bench}"
BASE="${BENCH_TMPDIR:-$PWD/.build-bench}"
mkdir -p "$BASE"
WORK="$(mktemp -d "$BASE/probe.XXXXXX")"
[ "$KEEP" = 1 ] || trap 'rm -rf "$WORK"' EXIT

cp spool/gateway.toml "$WORK/gateway.toml"
for p in CARRIERX CUSTOMS CIQ BORDER MSA KEMBATERM; do mkdir -p "$WORK/partners/$p/drop" "$WORK/partners/$p/pickup"; done
if [ "$KIND" = cuscar ]; then
  mkdir -p "$WORK/seed"
  "$RB" generate --manifests 3 --consignments 4 --out "$WORK/seed" --config spool/gateway.toml --d96a-percent 50 > /dev/null
  python3 scripts/lib/mutate-manifests.py cuscar "$WORK/seed" "$WORK/partners/CARRIERX/drop" "$SEED" "$FILES"
else
  python3 scripts/lib/mutate-manifests.py xml Tests/GatewayTests/Fixtures/manifest/sample-manifest.xml \
    "$WORK/partners/CARRIERX/drop" "$SEED" "$FILES"
fi
echo "== $FILES mutated $KIND manifests (seed $SEED), one gateway run --once"
set +e
"$GW" run --once --config "$WORK/gateway.toml" --json > "$WORK/run.json" 2> "$WORK/run.err"
STATUS=$?
set -e
python3 - "$WORK/run.json" "$STATUS" <<'PY'
import collections, json, re, sys
status = int(sys.argv[2])
try:
    report = json.load(open(sys.argv[1]))
except ValueError:
    print(f"  no report (exit status {status}): the run did not finish"); sys.exit(1)
files = report["files"]
print("  exit status %d; outcomes: %s" % (status, ", ".join(f"{k} {v}" for k, v in sorted(report["summary"].items()) if v)))
codes = collections.Counter()
for f in files:
    if f["outcome"] == "rejected":
        m = re.search(r"\[([\w.\-]+)\]", f.get("reason", ""))
        code = m.group(1) if m else "?"
        codes[f"0085 code {code}" if code.isdigit() else code] += 1
print("  rejections by first code: " + ", ".join(f"{k} {v}" for k, v in codes.most_common(12)))
bad = collections.defaultdict(list)
for f in files:
    if f["outcome"] not in ("accepted", "rejected", "replay") and not (f["outcome"] == "waiting" and "is not closed" in f.get("reason", "")):
        shape = re.sub(r"\d+", "N", re.sub(r"'[^']*'", "'…'", f.get("reason", "")))[:240]
        bad[(f["outcome"], shape)].append(f["file"])
for (outcome, shape), names in sorted(bad.items(), key=lambda kv: -len(kv[1])):
    print(f"  DEFECT {len(names)} {outcome}: {shape}  (e.g. {names[0]})")
sys.exit(1 if bad else 0)
PY
RESULT=$?
[ "$KEEP" = 1 ] && echo "  (kept: $WORK)"
exit $RESULT
