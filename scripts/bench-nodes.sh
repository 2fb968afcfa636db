#!/usr/bin/env bash
# Several gateway nodes on one PostgreSQL (issue 8): N CUSCAR manifests in the carrier's drop, ingested end to end
# (pickup, validation, receipts, filing, routing: three agencies' copies each) by one `gateway run --once` on SQLite, then by 1, 2 and 3
# `gateway run --once` processes started together on one PostgreSQL and one spool; files/s side by side, as
# ratios. One node polls the drop at a time (an advisory lock); every node runs the jobs. Each run is checked:
# every file accepted exactly once, one CONTRL receipt each, no delivery made twice, the drop empty.
# Then the kill run: 3 nodes, one killed with SIGKILL once a quarter of the files are processed (the others take
# back the jobs it was running), then one more run (a later poll finishes what it had claimed from the drop);
# checked the same way.
#
#   scripts/bench-nodes.sh [--files N] [--kb K]
#
# Starts its own throwaway PostgreSQL cluster (scripts/lib/pg-cluster.sh). Builds gateway in release
# (GATEWAY_BIN=PATH uses a prebuilt one). Spools under $BENCH_TMPDIR (default .build-bench/). Exit 1 when a check
# fails.
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=3000 KB=5
while [ $# -gt 0 ]; do
  case "$1" in
    --files) FILES="$2"; shift 2 ;;
    --kb) KB="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-nodes: unexpected '$1'" >&2; exit 2 ;;
  esac
done
[ -n "${GATEWAY_BIN:-}" ] || swift build -c release --product gateway 2>&1 | grep -v 'prohibited flag' | tail -1
GW="${GATEWAY_BIN:-$PWD/.build/release/gateway}"
BASE="${BENCH_TMPDIR:-$PWD/.build-bench}"
mkdir -p "$BASE"
WORK="$(mktemp -d "$BASE/nodes.XXXXXX")"
. scripts/lib/pg-cluster.sh
trap '"${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$PG_DIR" "$WORK"' EXIT
now() { date +%s.%N; }
status=0

# A spool: the sample configuration, its partners' directories, N files in the carrier's drop; with a database
# name, on that PostgreSQL database (state shared in the spool's state/), else on SQLite.
make_spool() {  # $1: spool dir, $2: database name or ""
  mkdir -p "$1"
  if [ -n "$2" ]; then
    python3 - "$1/gateway.toml" "$(pg_store_table "$2" "$1/state")" <<'PY'
import re, sys
text = open("spool/gateway.toml").read()
start = text.index("[store]\n"); end = text.index("\n[", start + 1) + 1
open(sys.argv[1], "w").write(text[:start] + sys.argv[2] + "\n" + text[end:])
PY
  else
    cp spool/gateway.toml "$1/gateway.toml"
  fi
  for p in CARRIERX CUSTOMS CIQ BORDER MSA KEMBATERM; do mkdir -p "$1/partners/$p/drop" "$1/partners/$p/pickup"; done
  python3 scripts/lib/gen-cuscar.py spool/samples/carrierx-manifest-ok.edi "$1/partners/CARRIERX/drop" "$FILES" "$KB" R distinct
  sync
}

# Checks a finished spool: the drop empty; one CONTRL and one APERAK per file in the carrier's pickup and one copy
# per manifest in customs' (a delivery made twice would be a second file: names are unique per batch).
check() {  # $1: spool dir, $2: label
  local left contrl aperak copies
  left=$(ls -A "$1/partners/CARRIERX/drop" | wc -l)
  contrl=$(find "$1/partners/CARRIERX/pickup" -name 'CONTRL-*.edi' | wc -l)
  aperak=$(find "$1/partners/CARRIERX/pickup" -name 'APERAK-*.edi' | wc -l)
  copies=$(find "$1/partners/CUSTOMS/pickup" -name 'CUSCAR-*.edi' | wc -l)
  if [ "$left" != 0 ] || [ "$contrl" != "$FILES" ] || [ "$aperak" != "$FILES" ] || [ "$copies" != "$FILES" ]; then
    echo "  CHECK FAILED ($2): $contrl CONTRL, $aperak APERAK, $copies customs copies for $FILES files; $left left in the drop"
    status=1
  fi
}

echo "== $FILES CUSCAR files of about $KB KB in one carrier's drop; $(nproc) cores"
S="$WORK/sqlite"; make_spool "$S" ""
t0=$(now); "$GW" run --once --config "$S/gateway.toml" --json > "$WORK/sqlite.json"; t=$(echo "$(now) - $t0" | bc -l)
check "$S" sqlite
sqlite_s=$t
printf "  %-24s %7.2f s  %7.0f files/s\n" "sqlite, 1 node" "$t" "$(echo "$FILES / $t" | bc -l)"
declare -A took
for nodes in 1 2 3; do
  S="$WORK/pg$nodes"; make_spool "$S" "nodes$nodes"
  "$GW" db migrate --config "$S/gateway.toml" > /dev/null
  t0=$(now); pids=()
  for n in $(seq 1 "$nodes"); do "$GW" run --once --config "$S/gateway.toml" --json > "$WORK/pg$nodes.$n.json" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || { echo "  a node exited with $?"; status=1; }; done
  t=$(echo "$(now) - $t0" | bc -l); took[$nodes]=$t
  check "$S" "postgres $nodes"
  printf "  %-24s %7.2f s  %7.0f files/s  x%.2f of 1 node, x%.2f of sqlite\n" "postgres, $nodes node(s)" "$t" \
    "$(echo "$FILES / $t" | bc -l)" "$(echo "${took[1]} / $t" | bc -l)" "$(echo "$sqlite_s / $t" | bc -l)"
done

echo "== kill run: 3 nodes, node1 killed with SIGKILL once a quarter of the files are processed; then one more run"
S="$WORK/kill"; make_spool "$S" "kill"
"$GW" db migrate --config "$S/gateway.toml" > /dev/null
pids=()
for n in 1 2 3; do "$GW" run --once --config "$S/gateway.toml" --json > "$WORK/kill.$n.json" & pids+=($!); done
processed() { PGPASSWORD=$(cat "$PG_DIR/swg.pw") psql -h 127.0.0.1 -p "$PG_PORT" -U swg -d kill -tAc \
  "SELECT count(*) FROM job WHERE kind = 'process' AND state = 'succeeded'"; }
while [ "$(processed)" -lt $((FILES / 4)) ]; do sleep 0.05; done
at_kill=$(processed); kill -9 "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
for p in "${pids[@]:1}"; do wait "$p" || { echo "  a surviving node exited with $?"; status=1; }; done
taken=$(PGPASSWORD=$(cat "$PG_DIR/swg.pw") psql -h 127.0.0.1 -p "$PG_PORT" -U swg -d kill -tAc \
  "SELECT count(*) FROM job_event WHERE message LIKE '%is no longer running; requeued%'")
"$GW" run --once --config "$S/gateway.toml" --json > "$WORK/kill.again.json"
check "$S" "kill run"
echo "  node1 killed with $at_kill of $FILES files processed; taken over by the others: $taken job(s); after one more run: $(find "$S/partners/CARRIERX/pickup" -name 'CONTRL-*.edi' | wc -l) receipts for $FILES files, $(ls -A "$S/partners/CARRIERX/drop" | wc -l) left in the drop"
exit $status
