#!/usr/bin/env bash
# Routing benchmark (issue 6): N realistic carrier manifests of K consignments dropped, one `gateway run --once`
# files them in the library and routes every agency its copy (SQLite, durable writes): manifests/s,
# consignments/s and copies/s end to end. Target: >= 20,000 consignments/s. Beside it, in the same run, the
# SAME files through a spool whose configuration has no [partner.routing] (syntax check and CONTRL only), so
# the cost of filing and routing shows as a ratio on the same machine at the same moment.
#
#   scripts/bench-routing.sh [--manifests N] [--consignments K] [--seed S] [--rounds R] [--baseline PATH] [--profile]
#                            [--no-components] [--keep]
#
# Builds gateway and route-bench in release; route-bench writes the files (CUSCAR D95B/D96A from CARRIERX:ZZZ,
# see Sources/route-bench/main.swift) and says what each agency should get under spool/gateway.toml's rules.
# Each round makes two fresh spools (copies of spool/gateway.toml with the partners' directories, as
# bench-intake.sh does) under $BENCH_TMPDIR (default .build-bench/), routing off first, then on; every run is
# checked: every file accepted with its CONTRL (and APERAK when routed) in CARRIERX/pickup, each agency's pickup
# holding exactly the copies expected, the library's manifests, consignments and routed copies, a sample of
# files against `gateway route explain --json`, the drop empty. Then, unless --no-components, `route-bench
# components` times each in-memory step of routing alone over the same files (CPU time per manifest and share).
# --profile then runs the routed case once more under `perf record -g` and prints the flat profile and
# `perf report --no-children | head -60`.
# --baseline PATH: another gateway executable (an earlier build) also runs the routed case in every round, before
# this build's run in odd rounds and after it in even ones, checked the same way; the summary gives the ratio of
# the two builds' throughput, round by round and for the medians (shared machines drift: compare within one run).
# GATEWAY_BIN=PATH and ROUTE_BENCH_BIN=PATH use prebuilt executables instead of building.
# Exit status: 0 when every run completed and was checked (target met or not), 1 on a failed check.
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."
MANIFESTS=1000 CONSIGNMENTS=50 SEED=7 ROUNDS=1 PROFILE=0 COMPONENTS=1 KEEP=0 BASELINE=
while [ $# -gt 0 ]; do
  case "$1" in
    --manifests) MANIFESTS="$2"; shift 2 ;;
    --consignments) CONSIGNMENTS="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --baseline) BASELINE="$2"; [[ "$BASELINE" = /* ]] || BASELINE="$CALLER_DIR/$BASELINE"; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --no-components) COMPONENTS=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-routing: unexpected '$1'" >&2; exit 2 ;;
  esac
done
if [ -n "$BASELINE" ] && [ ! -x "$BASELINE" ]; then echo "bench-routing: --baseline $BASELINE is not an executable" >&2; exit 2; fi
if [ -z "${GATEWAY_BIN:-}" ]; then
  swift build -c release --product gateway 2>&1 | grep -v 'prohibited flag' | tail -1
fi
if [ -z "${ROUTE_BENCH_BIN:-}" ]; then
  swift build -c release --product route-bench 2>&1 | grep -v 'prohibited flag' | tail -1
fi
GW="${GATEWAY_BIN:-$PWD/.build/release/gateway}"
RB="${ROUTE_BENCH_BIN:-$PWD/.build/release/route-bench}"
BASE="${BENCH_TMPDIR:-$PWD/.build-bench}"
mkdir -p "$BASE"
WORK="$(mktemp -d "$BASE/routing.XXXXXX")"
[ "$KEEP" = 1 ] || trap 'rm -rf "$WORK"' EXIT
AGENCIES="CUSTOMS CIQ BORDER MSA"

# $1: spool dir, $2: on | off (off: every [partner.routing] table and inline routing = {...} removed).
make_spool() {
  mkdir -p "$1"
  if [ "$2" = on ]; then
    cp spool/gateway.toml "$1/gateway.toml"
  else
    python3 - spool/gateway.toml "$1/gateway.toml" <<'PY'
import re, sys
out, skipping = [], False
for line in open(sys.argv[1], encoding="utf-8"):
    s = line.strip()
    if s.startswith("["):
        skipping = s == "[partner.routing]"
        if skipping: continue
    elif skipping and s and not s.startswith("#"):
        continue  # a key of the removed table
    if re.match(r"\s*routing\s*=", line): continue
    out.append(line)
open(sys.argv[2], "w", encoding="utf-8").write("".join(out))
PY
    if grep -Eq '^\s*(\[partner\.routing\]|routing\s*=)' "$1/gateway.toml"; then echo "  CHECK FAILED: routing left in $1/gateway.toml"; exit 1; fi
  fi
  for p in CARRIERX CUSTOMS CIQ BORDER MSA KEMBATERM; do mkdir -p "$1/partners/$p/drop" "$1/partners/$p/pickup"; done
  cp "$WORK"/files/*.edi "$1/partners/CARRIERX/drop/"
}
now() { date +%s.%N; }
count() { find "$1" -maxdepth 1 -type f -name "$2" | wc -l; }

echo
echo "== file system of the spool ($WORK)"
df -T "$WORK" | tail -1 | awk '{print "  device " $1 ", type " $2}'
findmnt -n -o OPTIONS --target "$WORK" 2>/dev/null | sed 's/^/  mount options: /' || true
echo "  cores: $(nproc); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the files and what each agency should get
echo
echo "== generating $MANIFESTS manifests of $CONSIGNMENTS consignments (seed $SEED)"
t0=$(now)
"$RB" generate --manifests "$MANIFESTS" --consignments "$CONSIGNMENTS" --seed "$SEED" --out "$WORK/files" \
  --config spool/gateway.toml > "$WORK/expect.txt"
t1=$(now)
declare -A E
while IFS='=' read -r k v; do E[$k]=$v; done < "$WORK/expect.txt"
python3 - "$WORK/expect.txt" "$t0" "$t1" <<'PY'
import sys
e = dict(l.strip().split("=", 1) for l in open(sys.argv[1]) if "=" in l)
el = float(sys.argv[3]) - float(sys.argv[2])
print(f"  {e['files']} files, {int(e['bytes'])/1e6:.1f} MB ({int(e['bytes'])//int(e['files'])} bytes each), D95B {e['d95b']}, D96A {e['d96a']}; "
      f"generated and mapped back in {el:.1f}s")
print(f"  {e['consignments']} consignments, {e['goods']} goods items ({e['dangerous']} dangerous), {e['containers']} containers")
for a in e["agencies"].split(","):
    print(f"  expected {a:8} {e['copies.' + a]:>6} copies ({e['format.' + a]}), {e['consignments.' + a]} consignments in them")
PY
[ "${E[consignments]}" = $((MANIFESTS * CONSIGNMENTS)) ] || { echo "  CHECK FAILED: generator made ${E[consignments]} consignments"; exit 1; }
COPIES=0
for a in $AGENCIES; do COPIES=$((COPIES + ${E[copies.$a]})); done

FAIL=0
# $1: spool dir, $2: on | off, $3: label. Prints checks; sets SECS. RUN_GW: the executable (default $GW).
run_one() {
  local dir=$1 mode=$2 label=$3 rc t0 t1
  sync
  t0=$(now)
  set +e
  /usr/bin/time -f '%e %U %S %M' -o "$dir/time.txt" "${RUN_GW:-$GW}" run --once --config "$dir/gateway.toml" --json > "$dir/run.json"
  rc=$?
  set -e
  t1=$(now)
  SECS=$(python3 -c "print(f'{$t1-$t0:.3f}')")
  read -r _ USR SYS RSS < "$dir/time.txt"
  echo "  $label: ${SECS}s wall (user ${USR}s, sys ${SYS}s, peak RSS $((RSS / 1024)) MB), exit status $rc"
  [ "$rc" = 0 ] || { echo "  CHECK FAILED: exit status $rc"; FAIL=1; }
  python3 - "$dir/run.json" "$MANIFESTS" <<'PY' || FAIL=1
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2])
c = r.get("summary", {})
print("    outcomes:", ", ".join(f"{k} {v}" for k, v in sorted(c.items()) if v))
if c.get("accepted", 0) != n:
    bad = [f for f in r.get("files", []) if f.get("outcome") != "accepted"][:3]
    print(f"    CHECK FAILED: {c.get('accepted', 0)} accepted, expected {n}: {bad}"); sys.exit(1)
PY
  local pickup="$dir/partners/CARRIERX/pickup" contrl aperak left want_aperak=0
  contrl=$(count "$pickup" 'CONTRL-*.edi')
  aperak=$(count "$pickup" 'APERAK-*.edi')
  left=$(ls -A "$dir/partners/CARRIERX/drop" | wc -l)
  [ "$mode" = on ] && want_aperak=$MANIFESTS
  echo "    carrier's pickup: $contrl CONTRL, $aperak APERAK (expected $MANIFESTS and $want_aperak); files left in the drop: $left"
  [ "$contrl" = "$MANIFESTS" ] && [ "$aperak" = "$want_aperak" ] && [ "$left" = 0 ] || { echo "    CHECK FAILED"; FAIL=1; }
  local line="    agencies' pickups:" a got want bad=0
  for a in $AGENCIES; do
    got=$(count "$dir/partners/$a/pickup" '*')
    want=0; [ "$mode" = on ] && want=${E[copies.$a]}
    line="$line $a $got/$want"
    [ "$got" = "$want" ] || bad=1
  done
  echo "$line (found/expected)"
  [ "$bad" = 0 ] || { echo "    CHECK FAILED: agency copies"; FAIL=1; }
  [ "$mode" = on ] || return 0
  [ "${E[copies.CUSTOMS]}" = "$MANIFESTS" ] && [ "${E[copies.BORDER]}" = "$MANIFESTS" ] \
    || { echo "    CHECK FAILED: CUSTOMS and BORDER must get every manifest"; FAIL=1; }
  # The customs copies hold every consignment (one CNI each).
  local cni
  cni=$(find "$dir/partners/CUSTOMS/pickup" -name 'CUSCAR-*.edi' -print0 | xargs -0 cat | grep -c '^CNI+' || true)
  echo "    consignments (CNI) in the customs copies: $cni (expected ${E[consignments.CUSTOMS]})"
  [ "$cni" = "${E[consignments.CUSTOMS]}" ] || { echo "    CHECK FAILED"; FAIL=1; }
  # The library: manifests, consignments, routed copies and the consignments they carry, per agency.
  local db="$dir/state/gateway.sqlite" q
  q=$(sqlite3 -readonly "$db" "SELECT (SELECT count(*) FROM manifest) || ' ' || (SELECT count(*) FROM consignment WHERE state = 'active')
       || ' ' || (SELECT count(*) FROM goods_item)")
  echo "    library: manifests, consignments, goods items: $q (expected $MANIFESTS ${E[consignments]} ${E[goods]})"
  [ "$q" = "$MANIFESTS ${E[consignments]} ${E[goods]}" ] || { echo "    CHECK FAILED"; FAIL=1; }
  for a in $AGENCIES; do
    q=$(sqlite3 -readonly "$db" "SELECT count(*) || ' ' || coalesce(sum(CASE WHEN format = 'border-xml' THEN 0 ELSE json_array_length(bills_json) END), 0)
         FROM routed_copy WHERE agency = '$a'")
    want="${E[copies.$a]} ${E[consignments.$a]}"
    [ "$q" = "$want" ] || { echo "    CHECK FAILED: routed_copy for $a: copies, consignments $q, expected $want"; FAIL=1; }
  done
  echo "    routed_copy rows and their consignments match the expectations per agency"
  # A sample against `gateway route explain --json`: each agency's copy is there exactly when it is selected.
  python3 - "$GW" "$dir" "$WORK/files" <<'PY' || FAIL=1
import json, os, subprocess, sys
gw, d, files = sys.argv[1:4]
names = sorted(os.listdir(files)); sample = names[:: max(1, len(names) // 10)][:12]
kind = {"cuscar-d95b": ("CUSCAR", "edi"), "cuscar-d96a": ("CUSCAR", "edi"), "manifest-xml": ("MANIFEST", "xml"),
        "ciq-xml": ("CIQ", "xml"), "border-xml": ("BORDER", "xml")}
bad = 0
for n in sample:
    out = subprocess.run([gw, "route", "explain", "--json", "--config", os.path.join(d, "gateway.toml"), os.path.join(files, n)],
                         capture_output=True, text=True, check=True).stdout
    for m in json.loads(out):
        for dec in m["decisions"]:
            k, ext = kind[dec["format"]]
            there = os.path.exists(os.path.join(d, "partners", dec["agency"], "pickup", f"{k}-CARRIERX-{m['documentNumber']}-v1.{ext}"))
            if there != dec["selected"]:
                bad += 1; print(f"    CHECK FAILED: {n} {dec['agency']}: explain says selected={dec['selected']}, copy there={there}")
print(f"    route explain on {len(sample)} sample files agrees with the copies delivered" if not bad else "")
sys.exit(1 if bad else 0)
PY
}

declare -a OFF_T ON_T BASE_T
# The baseline's routed run, checked as this build's is.
run_baseline() {
  make_spool "$WORK/base$1" on
  RUN_GW="$BASELINE" run_one "$WORK/base$1" on "baseline: routing on ($BASELINE)"
  BASE_T+=("$SECS")
  [ "$KEEP" = 1 ] || rm -rf "$WORK/base$1"
}
for r in $(seq 1 "$ROUNDS"); do
  echo
  echo "== round $r of $ROUNDS: the same $MANIFESTS files, one gateway run --once each (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  make_spool "$WORK/off$r" off
  run_one "$WORK/off$r" off "routing off (syntax check + CONTRL)"
  OFF_T+=("$SECS")
  [ -n "$BASELINE" ] && [ $((r % 2)) = 1 ] && run_baseline "$r"
  make_spool "$WORK/on$r" on
  run_one "$WORK/on$r" on "routing on (filed + routed)"
  ON_T+=("$SECS")
  [ -n "$BASELINE" ] && [ $((r % 2)) = 0 ] && run_baseline "$r"
  [ "$KEEP" = 1 ] || [ "$r" = "$ROUNDS" ] || rm -rf "$WORK/off$r" "$WORK/on$r"
done

echo
echo "== summary ($MANIFESTS manifests x $CONSIGNMENTS consignments = ${E[consignments]} consignments; $COPIES copies routed per run)"
python3 - "$MANIFESTS" "${E[consignments]}" "$COPIES" "${OFF_T[*]}" "${ON_T[*]}" "${BASE_T[*]:-}" <<'PY'
import statistics, sys
n, c, copies = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
off = [float(x) for x in sys.argv[4].split()]; on = [float(x) for x in sys.argv[5].split()]
base = [float(x) for x in sys.argv[6].split()]
for i, (a, b) in enumerate(zip(off, on), 1):
    print(f"  round {i}: off {a:7.2f}s   on {b:7.2f}s   on/off {b/a:5.2f}x")
a, b = statistics.median(off), statistics.median(on)
tag = "median of %d rounds" % len(on) if len(on) > 1 else "one round"
print(f"  ({tag})")
print(f"  {'':26}{'manifests/s':>12}{'consignments/s':>16}{'copies/s':>10}{'seconds':>9}")
print(f"  {'routing off (receipts)':26}{n/a:12.1f}{c/a:16.0f}{'-':>10}{a:9.2f}")
print(f"  {'routing on (filed+routed)':26}{n/b:12.1f}{c/b:16.0f}{copies/b:10.0f}{b:9.2f}")
print(f"  routed run takes {b/a:.2f}x the receipts-only run; filing+routing adds {(b-a)/n*1000:.1f} ms per manifest, "
      f"{(b-a)/c*1e6:.0f} us per consignment")
print(f"  target >= 20,000 consignments/s end to end: {c/b:.0f}/s, {'met' if c/b >= 20000 else 'NOT met'}"
      f" ({c/b/20000*100:.0f}% of it)")
if base:
    m = statistics.median(base)
    print(f"  {'baseline, routing on':26}{n/m:12.1f}{c/m:16.0f}{copies/m:10.0f}{m:9.2f}")
    rounds = "  ".join(f"{x/y:.2f}x" for x, y in zip(base, on))
    print(f"  this build's throughput / the baseline's: {m/b:.2f}x (medians); per round {rounds}")
PY

if [ "$COMPONENTS" = 1 ]; then
  echo
  echo "== where a routed run's time goes: each step alone over the same files (route-bench components)"
  "$RB" components --dir "$WORK/files" --config spool/gateway.toml --repeat 2 --store "$WORK/components-store" | sed 's/^/  /'
fi

if [ "$PROFILE" = 1 ]; then
  echo
  echo "== profile: the routed run once more under perf record -g (DWARF call graphs: Swift's runtime has no frame pointers)"
  make_spool "$WORK/perf" on
  sync
  perf record -F 400 -g --call-graph dwarf,32768 -o "$WORK/perf.data" -- "$GW" run --once --config "$WORK/perf/gateway.toml" --json \
    > "$WORK/perf/run.json" 2> "$WORK/perf.err" || { echo "  perf record failed:"; tail -3 "$WORK/perf.err"; }
  python3 - "$WORK/perf/run.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])).get("summary", {})
print("  (outcomes under perf: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()) if v) + "; timings under perf include its overhead)")
PY
  # Self time per symbol (perf report --no-children), then inclusive time of the gateway's own functions
  # (--children), names demangled; the full reports stay in $WORK with --keep.
  demangle() { if command -v swift >/dev/null; then swift demangle --simplified; else cat; fi; }
  perf report -i "$WORK/perf.data" --no-children --stdio -g none --percent-limit 0.7 2>/dev/null > "$WORK/perf-self.txt" || true
  perf report -i "$WORK/perf.data" --children --stdio -g none --percent-limit 1 2>/dev/null > "$WORK/perf-children.txt" || true
  echo "  -- self (perf report --no-children)"
  awk '!/^#/ && NF { $2 = ""; print; if (++n == 30) exit }' "$WORK/perf-self.txt" | demangle | cut -c1-150 | sed 's/^/  /'
  echo "  -- inclusive, the gateway's own functions (perf report --children)"
  awk '!/^#/ && NF && $4 == "gateway" && $NF !~ /^\$s(4GRDB|8Dispatch)|^_start|main$/ { print $1, $NF }' "$WORK/perf-children.txt" \
    | demangle | grep -v '(inlined)$' | awk '!seen[$0]++ { print; if (++n == 45) exit }' | cut -c1-150 | sed 's/^/    /'
fi
[ "$KEEP" = 1 ] && echo "  (kept: $WORK)"
exit $FAIL
