#!/usr/bin/env bash
# Intake benchmark (issue 3): N small CUSCAR interchanges dropped, one `gateway run --once`, files/s end to
# end with durable writes; then one M MB interchange, MB/s. Targets: >= 500 files/s and >= 100 MB/s.
#
#   scripts/bench-intake.sh [--files N] [--kb K] [--mb M] [--keep]
#
# Builds gateway and edifact-bench in release, makes a temporary spool (a copy of spool/gateway.toml with
# its partners' directories created, as scripts/demo.sh does) under $BENCH_TMPDIR (default: .build-bench/,
# on the same file system as the build, so the fsync costs are the real disk's), generates the files into
# the carrier's drop, times one run each, checks every file got a receipt and the drop is empty.
# GATEWAY_BIN=PATH and EDIFACT_BENCH_BIN=PATH use prebuilt executables instead of building.
# Exit status: 0 when both runs completed and were checked (targets met or not), 1 on a failed check.
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=5000 KB=5 MB=100 KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --files) FILES="$2"; shift 2 ;;
    --kb) KB="$2"; shift 2 ;;
    --mb) MB="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-intake: unexpected '$1'" >&2; exit 2 ;;
  esac
done
# GATEWAY_BIN / EDIFACT_BENCH_BIN name prebuilt executables (e.g. to compare two builds); else both are built.
if [ -z "${GATEWAY_BIN:-}" ]; then
  swift build -c release --product gateway 2>&1 | grep -v 'prohibited flag' | tail -1
fi
if [ -z "${EDIFACT_BENCH_BIN:-}" ]; then
  swift build -c release --product edifact-bench 2>&1 | grep -v 'prohibited flag' | tail -1
fi
GW="${GATEWAY_BIN:-$PWD/.build/release/gateway}"
EB="${EDIFACT_BENCH_BIN:-$PWD/.build/release/edifact-bench}"
BASE="${BENCH_TMPDIR:-$PWD/.build-bench}"
mkdir -p "$BASE"
WORK="$(mktemp -d "$BASE/intake.XXXXXX")"
[ "$KEEP" = 1 ] || trap 'rm -rf "$WORK"' EXIT

make_spool() {  # $1: spool dir
  mkdir -p "$1"
  cp spool/gateway.toml "$1/gateway.toml"
  for p in CARRIERX CUSTOMS CIQ BORDER MSA KEMBATERM; do mkdir -p "$1/partners/$p/drop" "$1/partners/$p/pickup"; done
}
now() { date +%s.%N; }

echo
echo "== file system of the spool ($WORK)"
df -T "$WORK" | tail -1 | awk '{print "  device " $1 ", type " $2}'
findmnt -n -o OPTIONS --target "$WORK" 2>/dev/null | sed 's/^/  mount options: /' || true
DEV=$(basename "$(df "$WORK" | tail -1 | awk '{print $1}')")
if [ -d "/proc/fs/ext4/$DEV" ]; then
  if ls /proc/fs/jbd2 2>/dev/null | grep -q "^$DEV-"; then echo "  ext4 with a journal (jbd2): a directory fsync commits the journal"
  else echo "  ext4 WITHOUT a journal (no /proc/fs/jbd2/$DEV-*): every fsync writes its own blocks and flushes the device"; fi
  grep -o 'barrier\|nobarrier\|commit=[0-9]*' "/proc/fs/ext4/$DEV/options" 2>/dev/null | tr '\n' ' ' | sed 's/^/  ext4 options: /; s/$/\n/'
fi
python3 - "$WORK" <<'PY'
import os, sys, time
d = sys.argv[1]; n = 300; t = time.perf_counter()
for i in range(n):
    p = os.path.join(d, f".probe{i}")
    fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644); os.write(fd, b"x" * 4096); os.fsync(fd); os.close(fd)
    dfd = os.open(d, os.O_RDONLY); os.fsync(dfd); os.close(dfd)
el = time.perf_counter() - t
for i in range(n): os.unlink(os.path.join(d, f".probe{i}"))
print(f"  probe: {n} x (create 4 KB + fsync file + fsync dir): {n/el:.0f}/s ({el/n*1e6:.0f} us each, i.e. ~{2*n/el:.0f} fsync/s)")
PY
echo "  cores: $(nproc)"

# ---- many small interchanges
SMALL="$WORK/small"
make_spool "$SMALL"
DROP="$SMALL/partners/CARRIERX/drop"
python3 scripts/lib/gen-cuscar.py spool/samples/carrierx-manifest-ok.edi "$DROP" "$FILES" "$KB"
SIZE=$(stat -c %s "$DROP/bench-R000000.edi")
sync
echo
echo "== $FILES interchanges of $SIZE bytes in the carrier's drop; one gateway run --once"
t0=$(now)
set +e; "$GW" run --once --config "$SMALL/gateway.toml" --json > "$WORK/small.json"; rc=$?; set -e
t1=$(now)
FAIL=0
python3 - "$WORK/small.json" "$FILES" <<'PY' || FAIL=1
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2])
c = r.get("summary", {})
print("  outcomes:", ", ".join(f"{k} {v}" for k, v in sorted(c.items()) if v))
if c.get("accepted", 0) != n: print(f"  CHECK FAILED: {c.get('accepted', 0)} accepted, expected {n}"); sys.exit(1)
PY
RECEIPTS=$(find "$SMALL/partners/CARRIERX/pickup" -name 'CONTRL-*.edi' | wc -l)
LEFT=$(ls -A "$DROP" | wc -l)
echo "  exit status $rc; receipts in pickup: $RECEIPTS; files left in the drop: $LEFT"
[ "$rc" = 0 ] && [ "$RECEIPTS" = "$FILES" ] && [ "$LEFT" = 0 ] || { echo "  CHECK FAILED"; FAIL=1; }
FPS=$(python3 -c "print(f'{$FILES/($t1-$t0):.0f}')")
SECS=$(python3 -c "print(f'{$t1-$t0:.2f}')")
echo "  $FILES files in ${SECS}s: $FPS files/s"

# ---- one large interchange
BIG="$WORK/big"
make_spool "$BIG"
BDROP="$BIG/partners/CARRIERX/drop"
"$EB" generate --megabytes "$MB" --out "$WORK/big.tmp" --seed 7 >/dev/null
mv "$WORK/big.tmp" "$BDROP/big.edi"
BYTES=$(stat -c %s "$BDROP/big.edi")
sync
echo
echo "== one interchange of $BYTES bytes; one gateway run --once"
t0=$(now)
set +e; "$GW" run --once --config "$BIG/gateway.toml" --json > "$WORK/big.json"; brc=$?; set -e
t1=$(now)
python3 - "$WORK/big.json" <<'PY' || FAIL=1
import json, sys
c = json.load(open(sys.argv[1])).get("summary", {})
print("  outcomes:", ", ".join(f"{k} {v}" for k, v in sorted(c.items()) if v))
if c.get("accepted", 0) != 1: print("  CHECK FAILED: not accepted"); sys.exit(1)
PY
BRECEIPTS=$(find "$BIG/partners/CARRIERX/pickup" -name 'CONTRL-*.edi' | wc -l)
BLEFT=$(ls -A "$BDROP" | wc -l)
echo "  exit status $brc; receipts in pickup: $BRECEIPTS; files left in the drop: $BLEFT"
[ "$brc" = 0 ] && [ "$BRECEIPTS" = 1 ] && [ "$BLEFT" = 0 ] || { echo "  CHECK FAILED"; FAIL=1; }
MBS=$(python3 -c "print(f'{$BYTES/1e6/($t1-$t0):.1f}')")
BSECS=$(python3 -c "print(f'{$t1-$t0:.2f}')")
echo "  $BYTES bytes in ${BSECS}s: $MBS MB/s"

echo
echo "== summary"
python3 - "$FPS" "$MBS" <<'PY'
import sys
fps, mbs = float(sys.argv[1]), float(sys.argv[2])
print(f"  small files: {fps:.0f} files/s (target >= 500): {'met' if fps >= 500 else 'NOT met'}")
print(f"  large file:  {mbs:.1f} MB/s (target >= 100): {'met' if mbs >= 100 else 'NOT met'}")
PY
[ "$KEEP" = 1 ] && echo "  (kept: $WORK)"
exit $FAIL
