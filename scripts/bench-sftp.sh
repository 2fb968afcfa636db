#!/usr/bin/env bash
# Pickup and delivery over loopback SFTP through the gateway, beside the OpenSSH `sftp` client moving the
# same files in the same run (issue 5).
#
#   scripts/bench-sftp.sh [--count N] [--kb K] [--big-mb M] [--repeat R] [--check]
#
# Needs root (starts /usr/sbin/sshd for the system account `swgbench`, scripts/loopback-sshd.sh). Builds the
# gateway (release) and, best of R (default 3) each:
#   pickup:   N (default 1000) K KB (default 5) CUSCAR interchanges, then one M MB (default 100) interchange,
#             in a drop on the server; `gateway run --once` (receipts off) takes them, and its pickup job's
#             time in the ledger is measured (claim by rename, download with size and hash, ledger commit,
#             delete on the server; the syntax check is the process jobs' work, after it);
#             the sftp client does `get` + `rm` of each (the least a pickup that clears the server does).
#   delivery: N interchanges in a local drop with the CONTRLs going to a pickup on the server; the delivery
#             time is that run's time minus the same run with a local pickup (so processing is taken out);
#             the sftp client does `put` of N files of the CONTRLs' size.
# The sftp client's connection setup (a batch with only `pwd`) is taken out of its times. Targets: files/s
# no slower than the sftp client for the small files; MB/s at least 70% of it for the large one.
# (Large deliveries do not exist yet: receipts are small. SFTPSession's upload of a 100 MB file is measured
# by scripts/bench-sftp-transfer.sh.) --check exits 1 when a target is missed.
set -euo pipefail

count=1000; kb=5; big_mb=100; repeat=3; check=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --count) count="$2"; shift ;;
        --kb) kb="$2"; shift ;;
        --big-mb) big_mb="$2"; shift ;;
        --repeat) repeat="$2"; shift ;;
        --check) check=1 ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "bench-sftp.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[[ $(id -u) == 0 ]] || { echo "bench-sftp.sh: run as root (sshd, useradd)" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [[ -z "${GATEWAY_BIN:-}" ]]; then
    echo "== building gateway (release)"
    swift build -c release --product gateway 2>&1 | grep -E "error|Build" | grep -v "^\[" || true
fi
GW="${GATEWAY_BIN:-$root/.build/release/gateway}"
[[ -x "$GW" ]] || { echo "bench-sftp.sh: no gateway executable at $GW" >&2; exit 2; }

user=swgbench
S="$(mktemp -d /tmp/swg-sftp-e2e.XXXXXX)"
chmod 755 "$S"
# shellcheck source=scripts/loopback-sshd.sh
source "$root/scripts/loopback-sshd.sh"
cleanup() { stop_loopback_sshd; rm -rf "$S"; }
trap cleanup EXIT
echo "== sshd in $S"
start_loopback_sshd "$user" "$S"
R="$S/home/$user"

echo "== data: $count x $kb KB interchanges and one $big_mb MB interchange"
gen() {  # gen DIR COUNT BYTES PREFIX: valid CUSCAR interchanges of about BYTES each
    python3 - "$@" <<'PY'
import sys, os
d, n, size, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
os.makedirs(d, exist_ok=True)
for i in range(1, n + 1):
    ref = f"{prefix}{i:06d}"
    head = f"UNA:+.? 'UNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+260601:1200+{ref}'"
    body, segs, m = [], 0, 0
    out = [head]
    total = len(head)
    while total < size:
        m += 1
        msg = [f"UNH+{m}+CUSCAR:D:95B:UN'", f"BGM+85+{ref}{m}+9'"] + [f"EQD+CN+CONU{m:07d}'" for _ in range(3)]
        msg.append(f"UNT+{len(msg) + 1}+{m}'")
        s = "".join(msg)
        out.append(s)
        total += len(s)
    out.append(f"UNZ+{m}+{ref}'")
    with open(os.path.join(d, f"{ref}.edi"), "w") as f:
        f.write("".join(out))
PY
}
gen "$S/small" "$count" $((kb * 1024)) S
gen "$S/big" 1 $((big_mb * 1000000)) B
small_bytes=$(du -cb "$S"/small/*.edi | tail -1 | cut -f1)
big_bytes=$(du -b "$S"/big/*.edi | cut -f1)
# CONTRL-sized files for the client's uploads.
head -c 400 /dev/urandom > "$S/contrl-size.bin"

spool() {  # spool DIR DROP PICKUP: a gateway spool whose CARRIERX drop/pickup are as given
    mkdir -p "$1"
    cat > "$1/gateway.toml" <<TOML
[gateway]
sender_id = "SWGATEWAY"
sender_qualifier = "ZZZ"
spool = "."

[[endpoint]]
name = "bench"
host = "127.0.0.1"
port = $port
user = "$user"
private_key = "$S/client_key"
known_hosts = "$S/known_hosts"

[[partner]]
id = "CARRIERX"
role = "carrier"
identities = ["CARRIERX:ZZZ"]
drop = "$2"
pickup = "$3"
patterns = ["*.edi"]
$4
TOML
}
run_gateway() {  # run_gateway SPOOL [pickup] -> seconds of one run --once, or of its pickup job (from the ledger)
    local start end
    start=$(date +%s.%N)
    (cd "$1" && "$GW" run --once --config gateway.toml > "$1/run.txt") || true
    end=$(date +%s.%N)
    grep -q "failed" "$1/run.txt" && { echo "bench-sftp.sh: a file failed:" >&2; grep failed "$1/run.txt" | head -3 >&2; exit 2; }
    if [[ "${2:-}" == pickup ]]; then
        python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT (julianday(updated_at) - julianday(created_at)) * 86400 FROM job WHERE kind = 'pickup'\").fetchone()[0])" "$1/state/gateway.sqlite"
    else
        echo "$end - $start" | bc -l
    fi
}
fill_remote() {  # fill_remote SRC: the drop on the server holds exactly SRC's files
    rm -rf "$R/drop"; cp -r "$1" "$R/drop"; chown -R "$user:" "$R/drop"
}
best() { sort -g | head -1; }
receipts_off='[partner.acknowledgement]
contrl = "never"
aperak = "never"'

echo "== gateway: pickup over SFTP"
g_pick_small=$(for ((k = 0; k < repeat; k++)); do
    fill_remote "$S/small"; rm -rf "$S/g"; spool "$S/g" "sftp://bench$R/drop" "partners/CARRIERX/pickup" "$receipts_off"
    run_gateway "$S/g" pickup; [[ -z "$(ls -A "$R/drop")" ]] || { echo "bench-sftp.sh: drop not emptied" >&2; exit 2; }
done | best)
g_pick_big=$(for ((k = 0; k < repeat; k++)); do
    fill_remote "$S/big"; rm -rf "$S/g"; spool "$S/g" "sftp://bench$R/drop" "partners/CARRIERX/pickup" "$receipts_off"
    run_gateway "$S/g" pickup
done | best)
echo "== gateway: delivery over SFTP (a run with remote pickup minus the same run with a local one)"
mkdir -p "$R/pickup"; chown "$user:" "$R/pickup"
g_local=$(for ((k = 0; k < repeat; k++)); do
    rm -rf "$S/g"; spool "$S/g" "partners/CARRIERX/drop" "partners/CARRIERX/pickup" ""
    mkdir -p "$S/g/partners/CARRIERX"; cp -r "$S/small" "$S/g/partners/CARRIERX/drop"; run_gateway "$S/g"
done | best)
g_remote=$(for ((k = 0; k < repeat; k++)); do
    rm -rf "$R/pickup"/* "$S/g"; spool "$S/g" "partners/CARRIERX/drop" "sftp://bench$R/pickup" ""
    mkdir -p "$S/g/partners/CARRIERX"; cp -r "$S/small" "$S/g/partners/CARRIERX/drop"; run_gateway "$S/g"
    [[ $(ls "$R/pickup" | grep -c '^CONTRL-') == "$count" ]] || { echo "bench-sftp.sh: receipts missing" >&2; exit 2; }
done | best)

echo "== OpenSSH sftp client ($(ssh -V 2>&1 | cut -d, -f1))"
client() { sftp_seconds "$user" "$S" "$1"; }
echo pwd > "$S/b-connect"
: > "$S/b-small"; : > "$S/b-put"
for f in "$S"/small/*.edi; do
    n=$(basename "$f")
    printf 'get drop/%s %s/got/%s\nrm drop/%s\n' "$n" "$S" "$n" "$n" >> "$S/b-small"
    printf 'put %s pickup/%s\n' "$S/contrl-size.bin" "$n" >> "$S/b-put"
done
bn=$(basename "$S"/big/*.edi)
printf 'get drop/%s %s/got/%s\nrm drop/%s\n' "$bn" "$S" "$bn" "$bn" > "$S/b-big"
connect=$(for ((k = 0; k < repeat; k++)); do client "$S/b-connect"; done | best)
c_small=$(for ((k = 0; k < repeat; k++)); do fill_remote "$S/small"; rm -rf "$S/got"; mkdir -p "$S/got"; client "$S/b-small"; done | best)
c_big=$(for ((k = 0; k < repeat; k++)); do fill_remote "$S/big"; rm -rf "$S/got"; mkdir -p "$S/got"; client "$S/b-big"; done | best)
c_put=$(for ((k = 0; k < repeat; k++)); do rm -rf "$R/pickup"/*; client "$S/b-put"; done | best)

verdict=0
line() {  # line LABEL OURS THEIRS UNIT TARGET
    local ratio ok
    ratio=$(echo "$2 / $3" | bc -l)
    ok=met; (( $(echo "$ratio < $5" | bc -l) )) && { ok=MISSED; verdict=1; }
    printf '%-28s %10.1f %10.1f %-8s %6.2fx  >= %.2fx %s\n' "$1" "$2" "$3" "$4" "$ratio" "$5" "$ok"
}
echo
echo "== loopback SFTP, best of $repeat ($count x $kb KB = $small_bytes bytes; $big_bytes bytes)"
printf '%-28s %10s %10s %-8s %7s\n' measurement gateway "sftp" unit ratio
line "pickup $count small files" "$(echo "$count / $g_pick_small" | bc -l)" "$(echo "$count / ($c_small - $connect)" | bc -l)" files/s 1.0
line "pickup small, volume" "$(echo "$small_bytes / 1000000 / $g_pick_small" | bc -l)" "$(echo "$small_bytes / 1000000 / ($c_small - $connect)" | bc -l)" MB/s 1.0
line "pickup one ${big_mb} MB file" "$(echo "$big_bytes / 1000000 / $g_pick_big" | bc -l)" "$(echo "$big_bytes / 1000000 / ($c_big - $connect)" | bc -l)" MB/s 0.7
line "deliver $count receipts" "$(echo "$count / ($g_remote - $g_local)" | bc -l)" "$(echo "$count / ($c_put - $connect)" | bc -l)" files/s 1.0
echo "(gateway pickup = its pickup job in the ledger, commit included; delivery = remote-pickup run $g_remote s - local run $g_local s)"
[[ $check == 1 ]] && exit $verdict
exit 0
