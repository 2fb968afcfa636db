#!/usr/bin/env bash
# EDIFACT throughput and memory benchmark: our validator vs pydifact vs a plain C tokenizer.
#
#   scripts/bench-edifact.sh [--full] [--repeat K] [--sizes "1 10 100"] [--check]
#
# Builds edifact-bench (release), generates deterministic CUSCAR D95B files of 1, 10 and 100 MB under
# bench-data/ (gitignored) if missing, then measures on the same files, one process per file:
#   ours      edifact-bench run (EDIFACTValidator, 64 KiB chunks, parse time only, best of K)
#   C         scripts/c-tokenizer-baseline.c built now with cc -O2 (segment/element/component counts only)
#   pydifact  scripts/pydifact-bench.py (PyPI pydifact==0.2.3; about 1 MB/s, so 1 and 10 MB only,
#             100 MB too with --full)
# and prints them side by side with ratios. Targets: >= 300 MB/s on the 100 MB file, peak RSS < 64 MiB.
# --check exits 1 when a target is missed.
set -euo pipefail

full=0; repeat=3; sizes="1 10 100"; check=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --full) full=1 ;;
        --repeat) repeat="$2"; shift ;;
        --sizes) sizes="$2"; shift ;;
        --check) check=1 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "bench-edifact.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
echo "== building edifact-bench (release)"
swift build -c release --product edifact-bench 2>&1 | grep -E "error|Compiling|Build" | grep -v "^\[" || true
bench="$(swift build -c release --product edifact-bench --show-bin-path)/edifact-bench"
[[ -x "$bench" ]] || { echo "bench-edifact.sh: build failed" >&2; exit 2; }
ctok=.build/c-tokenizer-baseline
cc -O2 -o "$ctok" scripts/c-tokenizer-baseline.c

mkdir -p bench-data
files=()
for mb in $sizes; do
    f="bench-data/cuscar-d95b-${mb}mb.edi"
    [[ -s "$f" ]] || "$bench" generate --megabytes "$mb" --out "$f" --seed 42
    files+=("$f")
done

py_ok=1
python3 -c "import pydifact" 2>/dev/null || { py_ok=0; echo "pydifact not importable: run scripts/setup-test-deps.sh (pydifact column skipped)" >&2; }

echo "== ours: edifact-bench run (best of $repeat)"
"$bench" run --repeat "$repeat" "${files[@]}"
ours="$("$bench" run --tsv --repeat "$repeat" "${files[@]}" | tail -n +2)"

declare -A c_line py_line
echo "== C tokenizer baseline (cc -O2, best of $repeat)"
for f in "${files[@]}"; do c_line[$f]="$("$ctok" "$f" 65536 "$repeat")"; echo "$f: ${c_line[$f]}"; done

py_sizes=()
if [[ $py_ok == 1 ]]; then
    echo "== pydifact 0.2.3 (one pass per file)"
    for mb in $sizes; do
        if [[ $mb -ge 100 && $full == 0 ]]; then continue; fi
        f="bench-data/cuscar-d95b-${mb}mb.edi"
        py_line[$f]="$(python3 scripts/pydifact-bench.py "$f" 1)"
        echo "$f: ${py_line[$f]}"
        py_sizes+=("$mb MB")
    done
fi

echo
echo "== EDIFACT parse throughput (MB = 10^6 bytes; parse time only; peak RSS per process)"
printf '%-26s %7s | %9s %8s %9s | %9s %8s | %9s %8s | %9s %8s\n' \
    file "MB" "ours MB/s" "RSS MiB" findings "C MB/s" "RSS MiB" "py MB/s" "RSS MiB" "ours/py" "ours/C"
verdict=0
while IFS=$'\t' read -r f bytes secs mbps segs finds rss_kib read_s; do
    read -r cb cs cmbps csegs celems ccomps crss <<< "${c_line[$f]}"
    py="${py_line[$f]:-}"
    if [[ -n "$py" ]]; then
        read -r pb ps pmbps psegs pelems prss <<< "$py"
        pyc="$(printf '%9.2f %8.1f' "$pmbps" "$(echo "$prss/1024" | bc -l)")"
        ratio_py="$(printf '%8.0fx' "$(echo "$mbps/$pmbps" | bc -l)")"
        # pydifact also yields UNA as a segment.
        [[ $((psegs - 1)) == "$segs" || $psegs == "$segs" ]] || echo "WARNING: $f: pydifact read $psegs segments, we read $segs" >&2
    else
        pyc="$(printf '%9s %8s' "not run" "-")"; ratio_py="$(printf '%9s' "-")"
    fi
    [[ "$csegs" == "$segs" ]] || echo "WARNING: $f: C baseline counted $csegs segments, we read $segs" >&2
    printf '%-26s %7.1f | %9.1f %8.1f %9s | %9.1f %8.1f | %s | %s %7.2fx\n' \
        "$(basename "$f")" "$(echo "$bytes/1000000" | bc -l)" "$mbps" "$(echo "$rss_kib/1024" | bc -l)" "$finds" \
        "$cmbps" "$(echo "$crss/1024" | bc -l)" "$pyc" "$ratio_py" "$(echo "$mbps/$cmbps" | bc -l)"
    if (( $(echo "$rss_kib/1024 >= 64" | bc -l) )); then echo "  MISSED: peak RSS $(echo "$rss_kib/1024" | bc -l | cut -c1-5) MiB >= 64 MiB on $f"; verdict=1; fi
    if [[ "$f" == *100mb* ]] && (( $(echo "$mbps < 300" | bc -l) )); then echo "  MISSED: $mbps MB/s < 300 MB/s on $f"; verdict=1; fi
done <<< "$ours"
echo
if [[ ${#py_sizes[@]} -gt 0 ]]; then echo "pydifact ran on: ${py_sizes[*]}$([[ $full == 0 ]] && echo " (100 MB only with --full)")"; else echo "pydifact ran on: none"; fi
echo "targets: >= 300 MB/s in-process on the 100 MB file, peak RSS < 64 MiB: $([[ $verdict == 0 ]] && echo met || echo MISSED)"
[[ $check == 1 ]] && exit $verdict
exit 0
