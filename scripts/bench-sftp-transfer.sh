#!/usr/bin/env bash
# SFTP transfer throughput: the gateway's SFTPSession vs the OpenSSH `sftp` client, over loopback.
#
#   scripts/bench-sftp-transfer.sh [--count N] [--size BYTES] [--big-mb M] [--repeat K] [--check]
#
# Needs root (it starts /usr/sbin/sshd and creates the system account `swgbench`, key logins only).
# Builds sftp-bench (release), starts a private sshd on a free loopback port (own host key, internal-sftp,
# the same setup as Tests/TestSupport/TestSSHD.swift) and makes N (default 1000) files of BYTES (default
# 5120) and one file of M MB (default 100). Then, best of K (default 3) each: download and upload of the
# small files one by one over one session, and of the big file, by sftp-bench (SFTPSession) and by
# `sftp -b` (get/put lines, one per file). The sftp client's times have its connection setup taken out
# (a batch with only `pwd`, timed the same way), since sftp-bench connects before its clock starts.
# Targets (issue: SFTP transfers): files/s >= the sftp client's for the small files, MB/s >= 70% of it
# for the big file, both directions. --check exits 1 when one is missed.
set -euo pipefail

count=1000; size=5120; big_mb=100; repeat=3; check=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --count) count="$2"; shift ;;
        --size) size="$2"; shift ;;
        --big-mb) big_mb="$2"; shift ;;
        --repeat) repeat="$2"; shift ;;
        --check) check=1 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "bench-sftp-transfer.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[[ $(id -u) == 0 ]] || { echo "bench-sftp-transfer.sh: run as root (sshd, useradd)" >&2; exit 2; }

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
echo "== building sftp-bench (release)"
swift build -c release --product sftp-bench 2>&1 | grep -E "error|Build" | grep -v "^\[" || true
bench="$(swift build -c release --product sftp-bench --show-bin-path)/sftp-bench"
[[ -x "$bench" ]] || { echo "bench-sftp-transfer.sh: build failed" >&2; exit 2; }

user=swgbench
S="$(mktemp -d /tmp/swg-sftp-bench.XXXXXX)"
chmod 755 "$S"
# shellcheck source=scripts/loopback-sshd.sh
source "$root/scripts/loopback-sshd.sh"
cleanup() { stop_loopback_sshd; rm -rf "$S"; }
trap cleanup EXIT

echo "== sshd setup in $S"
start_loopback_sshd "$user" "$S"
mkdir -p "$S/local"
R="$S/home/$user"; L="$S/local"

echo "== data: $count x $size bytes and one ${big_mb} MB file"
mkdir -p "$L/src-small"
head -c $((count * size)) /dev/urandom | (cd "$L/src-small" && split -b "$size" -a 5 --numeric-suffixes=1 - f)
head -c $((big_mb * 1000000)) /dev/urandom > "$L/src-big.bin"
cp -r "$L/src-small" "$R/small"
cp "$L/src-big.bin" "$R/big.bin"
chown -R "$user:" "$R"
names=()
for ((i = 1; i <= count; i++)); do names+=("$(printf 'f%05d' "$i")"); done

echo "== sftp-bench (SFTPSession), best of $repeat"
ours="$("$bench" --port "$port" --user "$user" --key "$S/client_key" --known-hosts "$S/known_hosts" \
        --remote "$R" --local "$L" --count "$count" --repeat "$repeat")"
echo "$ours"

echo "== OpenSSH sftp client ($(ssh -V 2>&1 | cut -d, -f1)), best of $repeat"
sftp_batch() { sftp_seconds "$user" "$S" "$1"; }
best_of() {  # best_of PREPARE BATCH -> best seconds
    local best="" t
    for ((k = 0; k < repeat; k++)); do
        eval "$1"
        t="$(sftp_batch "$2")"
        if [[ -z "$best" ]] || (( $(echo "$t < $best" | bc -l) )); then best="$t"; fi
    done
    echo "$best"
}
echo "pwd" > "$S/b-connect"
: > "$S/b-get-small"; : > "$S/b-put-small"
for n in "${names[@]}"; do
    echo "get $R/small/$n $L/theirs-small/$n" >> "$S/b-get-small"
    echo "put $L/src-small/$n $R/theirs-up-small/$n" >> "$S/b-put-small"
done
echo "get $R/big.bin $L/theirs-big.bin" > "$S/b-get-big"
echo "put $L/src-big.bin $R/theirs-up-big/big.bin" > "$S/b-put-big"
connect="$(best_of ":" "$S/b-connect")"
c_get_small="$(best_of "rm -rf $L/theirs-small; mkdir -p $L/theirs-small" "$S/b-get-small")"
c_get_big="$(best_of "rm -f $L/theirs-big.bin" "$S/b-get-big")"
c_put_small="$(best_of "rm -rf $R/theirs-up-small; mkdir -p $R/theirs-up-small; chown $user: $R/theirs-up-small" "$S/b-put-small")"
c_put_big="$(best_of "rm -rf $R/theirs-up-big; mkdir -p $R/theirs-up-big; chown $user: $R/theirs-up-big" "$S/b-put-big")"
cmp -s "$L/theirs-big.bin" "$L/src-big.bin" && cmp -s "$L/ours-big.bin" "$L/src-big.bin" \
    && cmp -s "$R/ours-up-big/big.bin" "$L/src-big.bin" || { echo "bench-sftp-transfer.sh: big file copies differ" >&2; exit 2; }
diff -rq "$L/ours-small" "$L/src-small" >/dev/null && diff -rq "$R/ours-up-small" "$L/src-small" >/dev/null \
    || { echo "bench-sftp-transfer.sh: small file copies differ" >&2; exit 2; }
echo "connection setup (subtracted from each sftp run): ${connect} s"

field() { echo "$ours" | awk -v op="$1" -v f="$2" '$0 ~ "op="op" " { for (i = 1; i <= NF; i++) if (index($i, f"=") == 1) { sub(f"=", "", $i); print $i } }'; }
echo
echo "== loopback SFTP, one session, sequential ($count x $size B; ${big_mb} MB)"
printf '%-15s %14s %14s %8s   %s\n' measurement sftp-bench "sftp client" ratio target
verdict=0
row() {  # row OP CLIENT_SECONDS FILES BYTES UNIT TARGET_RATIO
    local op=$1 secs=$2 files=$3 bytes=$4 unit=$5 target=$6 ours_v theirs_v ratio ok
    secs="$(echo "$secs - $connect" | bc -l)"
    if [[ $unit == files/s ]]; then
        ours_v="$(field "$op" files_per_s)"; theirs_v="$(echo "$files / $secs" | bc -l)"
    else
        ours_v="$(field "$op" mb_per_s)"; theirs_v="$(echo "$bytes / 1000000 / $secs" | bc -l)"
    fi
    ratio="$(echo "$ours_v / $theirs_v" | bc -l)"
    ok=met; (( $(echo "$ratio < $target" | bc -l) )) && { ok=MISSED; verdict=1; }
    printf '%-15s %8.1f %-5s %8.1f %-5s %7.2fx   >= %.2fx %s\n' "$op" "$ours_v" "${unit%/s}/s" "$theirs_v" "${unit%/s}/s" "$ratio" "$target" "$ok"
}
row download-small "$c_get_small" "$count" $((count * size)) files/s 1.0
row upload-small "$c_put_small" "$count" $((count * size)) files/s 1.0
row download-big "$c_get_big" 1 $((big_mb * 1000000)) MB/s 0.7
row upload-big "$c_put_big" 1 $((big_mb * 1000000)) MB/s 0.7
[[ $check == 1 ]] && exit $verdict
exit 0
