#!/usr/bin/env bash
# Job-ledger benchmark across nodes (issue 8): N jobs claimed and completed by 1, 2 and 3 node processes sharing one
# PostgreSQL (SELECT ... FOR UPDATE SKIP LOCKED, 16 at a time, a 2 s lease), beside the same N jobs through the
# SQLite ledger by one node, printed side by side with ratios. Each job "works" MS milliseconds (a delivery's
# I/O; default 2). Then the kill run: 3 nodes, one killed with SIGKILL mid-run; the others finish its jobs once its
# leases lapse, and every job ends succeeded exactly once (the ledger is checked).
#
#   scripts/bench-ledger.sh [--jobs N] [--work-ms MS]
#
# Starts its own throwaway PostgreSQL cluster (scripts/lib/pg-cluster.sh) and removes it after. Builds ledger-bench in
# release (LEDGER_BENCH_BIN=PATH uses a prebuilt one). Exit 1 when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=3000 MS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) JOBS="$2"; shift 2 ;;
    --work-ms) MS="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-ledger: unexpected '$1'" >&2; exit 2 ;;
  esac
done
[ -n "${LEDGER_BENCH_BIN:-}" ] || swift build -c release --product ledger-bench 2>&1 | grep -v 'prohibited flag' | tail -1
LB="${LEDGER_BENCH_BIN:-$PWD/.build/release/ledger-bench}"
. scripts/lib/pg-cluster.sh
now() { date +%s.%N; }
status=0

echo "== $JOBS jobs of ${MS} ms each (claim 16, lease 2 s)"
SQ="$PG_DIR/sqlite.db"
sqlite_line=$("$LB" sqlite "$SQ" "$JOBS" "$MS")
sqlite_s=$(echo "$sqlite_line" | awk '{print $(NF-1)}')
printf "  %-22s %7.2f s  %8.0f jobs/s\n" "sqlite, 1 node" "$sqlite_s" "$(echo "$JOBS / $sqlite_s" | bc -l)"
declare -A took
for nodes in 1 2 3; do
  PG=$(pg_fresh "nodes$nodes"); "$LB" setup "$PG" "$JOBS"
  t0=$(now); pids=()
  for n in $(seq 1 "$nodes"); do "$LB" work "$PG" "node$n" "$MS" > "$PG_DIR/out.$n" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p"; done
  t=$(echo "$(now) - $t0" | bc -l); took[$nodes]=$t
  counts=$("$LB" counts "$PG")
  done_jobs=$(cat "$PG_DIR"/out.* | awk '{s += $3} END {print s}')
  [ "$counts" = "succeeded=$JOBS" ] && [ "$done_jobs" = "$JOBS" ] || { echo "  CHECK FAILED: $counts, completions $done_jobs"; status=1; }
  printf "  %-22s %7.2f s  %8.0f jobs/s  x%.2f of 1 node, x%.2f of sqlite\n" "postgres, $nodes node(s)" "$t" \
    "$(echo "$JOBS / $t" | bc -l)" "$(echo "${took[1]} / $t" | bc -l)" "$(echo "$sqlite_s / $t" | bc -l)"
  rm -f "$PG_DIR"/out.*
done

echo "== kill run: 3 nodes, node1 killed with SIGKILL after 0.3 s"
PG=$(pg_fresh kill); "$LB" setup "$PG" "$JOBS"
pids=()
for n in 1 2 3; do "$LB" work "$PG" "node$n" "$MS" > "$PG_DIR/out.$n" & pids+=($!); done
sleep 0.3; kill -9 "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
for p in "${pids[@]:1}"; do wait "$p"; done
counts=$("$LB" counts "$PG")
echo "  node1 killed; $(cat "$PG_DIR/out.2"); $(cat "$PG_DIR/out.3"); ledger: $counts"
[ "$counts" = "succeeded=$JOBS" ] || { echo "  CHECK FAILED"; status=1; }
exit $status
