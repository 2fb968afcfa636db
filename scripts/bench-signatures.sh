#!/usr/bin/env bash
# Detached CMS signature verification rate vs OpenSSL's raw verify rate, on one core.
#
#   scripts/bench-signatures.sh [--count N] [--size BYTES] [--repeat K] [--seconds S] [--check]
#
# Builds sig-bench (release), makes a small PKI with `openssl` under bench-data/sig-pki/ (once): an
# RSA-2048 root and intermediate with CRLs, and two partner certificates below them, RSA-2048 and
# ECDSA P-256. sig-bench signs N (default 2000) distinct payloads of BYTES (default 5120) per algorithm
# with the gateway's CMSSigner and times CMSVerifier.verifyDetached over the files (best of K, default 3):
# as the service runs (plain-layout check, certificate and chain caches on), through OpenSSL's CMS layer
# with the caches, and through it without them. Before each pass sig-bench times as many bare verifications with the same key (what `openssl speed`
# measures), so each ratio compares two measurements made moments apart on this shared, noisy machine;
# `openssl speed -seconds S rsa2048 ecdsap256` (default 3) is printed beside it too. Both run pinned to
# CPU 0 (taskset) when available. Target (issue 4): RSA-2048 files/s >= 50% of the raw RSA-2048
# verify/s. --check exits 1 when it is missed.
set -euo pipefail

count=2000; size=5120; repeat=3; secs=3; check=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --count) count="$2"; shift ;;
        --size) size="$2"; shift ;;
        --repeat) repeat="$2"; shift ;;
        --seconds) secs="$2"; shift ;;
        --check) check=1 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "bench-signatures.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)

echo "== building sig-bench (release)"
swift build -c release --product sig-bench 2>&1 | grep -E "error|Build" | grep -v "^\[" || true
bench="$(swift build -c release --product sig-bench --show-bin-path)/sig-bench"
[[ -x "$bench" ]] || { echo "bench-signatures.sh: build failed" >&2; exit 2; }

pki=bench-data/sig-pki
if [[ ! -s $pki/p256.pem ]]; then
    echo "== making the bench PKI in $pki"
    rm -rf "$pki"; mkdir -p "$pki"
    (
        cd "$pki"
        cat > ca.cnf <<'CNF'
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $ENV::BENCH_CA
database = $dir/index.txt
serial = $dir/serial
crlnumber = $dir/crlnumber
new_certs_dir = $dir/newcerts
default_md = sha256
policy = policy_any
unique_subject = no
preserve = yes
copy_extensions = none
[ policy_any ]
countryName = optional
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = placeholder
[ root_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ inter_ext ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ leaf_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
        for db in rootdb interdb; do mkdir -p $db/newcerts; : > $db/index.txt; echo 1000 > $db/serial; echo 01 > $db/crlnumber; done
        echo 2000 > interdb/serial
        export BENCH_CA="$PWD/rootdb"
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out root.key 2>/dev/null
        openssl req -new -config ca.cnf -key root.key -subj "/C=CN/O=Bench/CN=BENCH Root CA" -out root.csr
        openssl ca -batch -notext -config ca.cnf -selfsign -keyfile root.key -in root.csr -extensions root_ext \
            -startdate 200101000000Z -enddate 400101000000Z -out root.pem 2>/dev/null
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out inter.key 2>/dev/null
        openssl req -new -config ca.cnf -key inter.key -subj "/C=CN/O=Bench/CN=BENCH Signing CA" -out inter.csr
        openssl ca -batch -notext -config ca.cnf -cert root.pem -keyfile root.key -in inter.csr -extensions inter_ext \
            -startdate 200101000000Z -enddate 390101000000Z -out inter.pem 2>/dev/null
        openssl ca -config ca.cnf -cert root.pem -keyfile root.key -gencrl -crl_lastupdate 200601000000Z \
            -crl_nextupdate 350101000000Z -out root.crl.pem 2>/dev/null
        export BENCH_CA="$PWD/interdb"
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2048.key 2>/dev/null
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.key
        for alg in rsa2048 p256; do
            openssl req -new -config ca.cnf -key $alg.key -subj "/C=CN/O=Bench/CN=BENCH $alg" -out $alg.csr
            openssl ca -batch -notext -config ca.cnf -cert inter.pem -keyfile inter.key -in $alg.csr -extensions leaf_ext \
                -startdate 250101000000Z -enddate 300101000000Z -out $alg.pem 2>/dev/null
        done
        openssl ca -config ca.cnf -cert inter.pem -keyfile inter.key -gencrl -crl_lastupdate 260101000000Z \
            -crl_nextupdate 350101000000Z -out inter.crl.pem 2>/dev/null
        chmod 600 ./*.key
    )
fi

echo "== sig-bench: $count files of $size bytes per algorithm, one thread, best of $repeat"
ours="$("${pin[@]}" "$bench" --pki "$pki" --count "$count" --size "$size" --repeat "$repeat" --work bench-data/sig)"
echo "$ours"

echo "== openssl speed -seconds $secs rsa2048 ecdsap256"
speed="$("${pin[@]}" openssl speed -seconds "$secs" rsa2048 ecdsap256 2>/dev/null)"
echo "$speed" | grep -E "^rsa 2048|nistp256" || true
raw_rsa="$(echo "$speed" | awk '/^rsa 2048 bits/ {print $NF}')"
raw_ec="$(echo "$speed" | awk '/ecdsa \(nistp256\)/ {print $NF}')"
[[ -n "$raw_rsa" && -n "$raw_ec" ]] || { echo "bench-signatures.sh: could not read openssl speed output" >&2; exit 2; }

field() { echo "$ours" | awk -v a="$1" -v p="$2" -v c="$3" -v f="$4" '$0 ~ "algorithm="a" path="p" caches="c" " {
    for (i = 1; i <= NF; i++) if (index($i, f"=") == 1) { sub(f"=", "", $i); print $i } }'; }
echo
echo "== detached CMS verification, $size-byte files, one core ($(openssl version | cut -d' ' -f1-2))"
echo "   raw: the same key's bare verify timed by sig-bench just before each pass (as openssl speed does it)"
printf '%-8s %-8s %-6s %9s %9s %7s %14s %7s\n' algorithm path caches "files/s" "raw/s" ratio "openssl speed" ratio
verdict=0
for alg in rsa2048 p256; do
    speed_raw=$raw_rsa; [[ $alg == p256 ]] && speed_raw=$raw_ec
    for case in "plain on" "openssl on" "openssl off"; do
        read -r path caches <<<"$case"
        r="$(field $alg $path $caches files_per_s)"
        raw="$(field $alg $path $caches raw_verify_per_s)"
        printf '%-8s %-8s %-6s %9s %9s %6.1f%% %14s %6.1f%%\n' "$alg" "$path" "$caches" "$r" "$raw" \
            "$(echo "100*$r/$raw" | bc -l)" "$speed_raw" "$(echo "100*$r/$speed_raw" | bc -l)"
    done
done
rsa="$(field rsa2048 plain on files_per_s)"
rsa_raw="$(field rsa2048 plain on raw_verify_per_s)"
if (( $(echo "$rsa < 0.5*$rsa_raw" | bc -l) )); then verdict=1; fi
echo "target: RSA-2048 files/s (service configuration: plain path, caches on) >= 50% of the raw RSA-2048 verify/s" \
     "timed beside it: $([[ $verdict == 0 ]] && echo met || echo MISSED)"
[[ $check == 1 ]] && exit $verdict
exit 0
