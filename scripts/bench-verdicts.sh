#!/usr/bin/env bash
# Verdict benchmark (issue 7): N carrier manifests of K consignments are filed and routed by one
# `gateway run --once` (not timed); then every agency answers every copy it was routed with CUSRES
# instructions (customs releases each bill, inspection and quarantine inspects and then releases each of its
# bills, border control and the maritime administration release each manifest), dropped as files of up to
# 100 messages; one timed `gateway run --once` checks, records and merges them, sends the terminal its
# COREOR releases and the carrier and agencies their CUSRES status (SQLite, durable writes). Prints instructions/s merged and delivered. Target: >= 5,000.
#
#   scripts/bench-verdicts.sh [--manifests N] [--consignments K] [--seed S] [--updates U] [--keep]
#
# --updates U: customs first sends U inspect-then-release pairs per bill before its final release (agencies
# revising their position), so the instructions grow without changing the outcome: 400 manifests with
# --updates 2 are about 105 000 instructions over 20 000 containers.
#
# Builds gateway and route-bench in release (GATEWAY_BIN=PATH and ROUTE_BENCH_BIN=PATH use prebuilt ones).
# The spool is a copy of spool/gateway.toml with every agency's readiness set to "rename" (a file is ready
# when it appears) and the terminal told about every port, under $BENCH_TMPDIR (default .build-bench/). Checked: every instruction file accepted,
# every fact recorded, every container of every manifest released to the terminal exactly once.
# Exit status: 0 when the run completed and was checked (target met or not), 1 on a failed check.
set -euo pipefail
cd "$(dirname "$0")/.."
MANIFESTS=200 CONSIGNMENTS=50 SEED=11 UPDATES=0 KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --manifests) MANIFESTS="$2"; shift 2 ;;
    --consignments) CONSIGNMENTS="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --updates) UPDATES="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-verdicts: unexpected '$1'" >&2; exit 2 ;;
  esac
done
[ -n "${GATEWAY_BIN:-}" ] || swift build -c release --product gateway 2>&1 | grep -v 'prohibited flag' | tail -1
[ -n "${ROUTE_BENCH_BIN:-}" ] || swift build -c release --product route-bench 2>&1 | grep -v 'prohibited flag' | tail -1
GW="${GATEWAY_BIN:-$PWD/.build/release/gateway}"
RB="${ROUTE_BENCH_BIN:-$PWD/.build/release/route-bench}"
BASE="${BENCH_TMPDIR:-$PWD/.build-bench}"
mkdir -p "$BASE"
WORK="$(mktemp -d "$BASE/verdicts.XXXXXX")"
[ "$KEEP" = 1 ] || trap 'rm -rf "$WORK"' EXIT
SPOOL="$WORK/spool"
mkdir -p "$SPOOL"
python3 - spool/gateway.toml "$SPOOL/gateway.toml" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
out, partner = [], None
for line in text.splitlines(keepends=True):
    s = line.strip()
    if s == "[[partner]]": partner = None
    m = re.match(r'id = "(\w+)"', s)
    if m: partner = m.group(1)
    if partner in ("CUSTOMS", "CIQ", "BORDER", "MSA") and re.match(r"readiness\s*=", s):
        line = 'readiness = { convention = "rename" }\n'
    if partner == "KEMBATERM" and re.match(r"ports\s*=", s):
        continue  # the generated manifests arrive at many ports: this terminal takes them all
    out.append(line)
open(sys.argv[2], "w", encoding="utf-8").write("".join(out))
PY
for p in CARRIERX CUSTOMS CIQ BORDER MSA KEMBATERM; do mkdir -p "$SPOOL/partners/$p/drop" "$SPOOL/partners/$p/pickup"; done

echo "== filing and routing $MANIFESTS manifests of $CONSIGNMENTS consignments (not timed)"
"$RB" generate --manifests "$MANIFESTS" --consignments "$CONSIGNMENTS" --seed "$SEED" --out "$WORK/files" \
  --config spool/gateway.toml > "$WORK/expect.txt"
cp "$WORK"/files/*.edi "$SPOOL/partners/CARRIERX/drop/"
"$GW" run --once --config "$SPOOL/gateway.toml" --json > "$WORK/route.json"

echo "== the agencies' instructions"
python3 - "$SPOOL" "$UPDATES" <<'PY'
import json, sqlite3, sys, collections
spool, updates = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(f"file:{spool}/state/gateway.sqlite?mode=ro", uri=True)
senders = {"CUSTOMS": "CNCQCUSTOMS:ZZZ", "CIQ": "CNCQCIQ:ZZZ", "BORDER": "CNCQBORDER", "MSA": "CNCQMSA:ZZZ"}
messages = collections.defaultdict(list)   # agency -> [(reference, gis, [rff...], minute)]
for agency, number, bills in db.execute("""
        SELECT r.agency, m.document_number, r.bills_json FROM routed_copy r JOIN manifest m ON m.id = r.manifest_id
        WHERE r.function <> 'cancel' ORDER BY r.id"""):
    bills = json.loads(bills)
    if agency == "CUSTOMS":
        for b in bills:
            for u in range(updates):
                for gis, minute in (("5", 2 * u), ("4", 2 * u + 1)):
                    messages[agency].append((f"C{len(messages[agency])}", gis, [f"RFF+AFB:{number}", f"RFF+BM:{b}"], minute))
            messages[agency].append((f"C{len(messages[agency])}", "4", [f"RFF+AFB:{number}", f"RFF+BM:{b}"], 2 * updates))
    elif agency == "CIQ":
        for b in bills:
            n = len(messages[agency])
            messages[agency].append((f"Q{n}", "5", [f"RFF+AFB:{number}", f"RFF+BM:{b}"], 0))
            messages[agency].append((f"Q{n + 1}", "4", [f"RFF+AFB:{number}", f"RFF+BM:{b}"], 30))
    else:
        messages[agency].append((f"{agency[0]}{len(messages[agency])}", "4", [f"RFF+AFB:{number}"], 0))
total = files = 0
for agency, items in messages.items():
    for start in range(0, len(items), 100):
        chunk = items[start:start + 100]
        ref = f"I{files:07d}"
        segs = ["UNA:+.? '", f"UNB+UNOC:3+{senders[agency]}+SWGATEWAY:ZZZ+250206:1000+{ref}'"]
        for i, (reference, gis, rffs, minute) in enumerate(chunk):
            body = [f"UNH+{i + 1}+CUSRES:D:96A:UN'", f"BGM+962+{reference}+9'", f"DTM+137:2025020610{minute:02d}:203'", f"GIS+{gis}'"]
            body += [r + "'" for r in rffs]
            body.append(f"UNT+{len(body) + 1}+{i + 1}'")
            segs += body
        segs.append(f"UNZ+{len(chunk)}+{ref}'")
        open(f"{spool}/partners/{agency}/drop/{ref}.edi", "w").write("\n".join(segs) + "\n")
        files += 1
        total += len(chunk)
    print(f"  {agency:8} {len(items):>7} instructions")
print(f"  {total} instructions in {files} files")
open(f"{spool}/../instructions.txt", "w").write(f"{total} {files}\n")
PY
read -r INSTRUCTIONS FILES < "$WORK/instructions.txt"

echo "== gateway run --once: check, record, merge, release (timed)"
sync
t0=$(date +%s.%N)
/usr/bin/time -f '%e %U %S %M' -o "$WORK/time.txt" "$GW" run --once --config "$SPOOL/gateway.toml" --json > "$WORK/run.json"
t1=$(date +%s.%N)
read -r _ USR SYS RSS < "$WORK/time.txt"
python3 - "$SPOOL" "$WORK/run.json" "$INSTRUCTIONS" "$FILES" "$t0" "$t1" "$USR" "$SYS" "$RSS" <<'PY'
import json, sqlite3, sys
spool, run = sys.argv[1], json.load(open(sys.argv[2]))
instructions, files = int(sys.argv[3]), int(sys.argv[4])
secs = float(sys.argv[6]) - float(sys.argv[5])
db = sqlite3.connect(f"file:{spool}/state/gateway.sqlite?mode=ro", uri=True)
facts = db.execute("SELECT count(*) FROM instruction").fetchone()[0]
objects = db.execute("SELECT count(*) FROM (SELECT DISTINCT reference, agency FROM instruction)").fetchone()[0]
containers = db.execute("""SELECT count(*) FROM (SELECT DISTINCT c.manifest_id, u.container FROM container_use u
                           JOIN consignment c ON c.id = u.consignment_id WHERE c.state = 'active')""").fetchone()[0]
released = db.execute("SELECT count(*), count(DISTINCT manifest_id || ' ' || container) FROM terminal_notice WHERE kind = 'release'").fetchone()
coreors = len([n for n in run.get("notices", []) if n["kind"] == "release"])
statuses = [n for n in run.get("notices", []) if n["kind"] == "status"]
manifests = db.execute("SELECT count(*) FROM manifest").fetchone()[0]
carrier = len([n for n in statuses if n["partner"] == "CARRIERX"])
accepted = sum(1 for f in run["files"] if f["outcome"] == "accepted" and f["partner"] in ("CUSTOMS", "CIQ", "BORDER", "MSA"))
print(f"  {secs:.2f}s wall (user {sys.argv[7]}s, sys {sys.argv[8]}s, peak RSS {int(sys.argv[9]) // 1024} MB)")
print(f"  files accepted {accepted}/{files}; instructions recorded {objects}/{instructions} ({facts} facts, one per object)")
print(f"  containers released to the terminal: {released[1]}/{containers} in {coreors} COREOR files ({released[0]} notices)")
print(f"  status CUSRES sent: {len(statuses)} ({carrier}/{manifests} to the carrier, the rest to the agencies)")
ok = accepted == files and objects == instructions and released[1] == containers and released[0] == containers and carrier == manifests
rate = instructions / secs
print(f"\n  {instructions} instructions merged and delivered in {secs:.2f}s: {rate:,.0f} instructions/s, "
      f"{containers / secs:,.0f} containers released/s")
print(f"  target >= 5,000 instructions/s: {'met' if rate >= 5000 else 'NOT met'} ({rate / 5000:.0%} of it)")
if not ok:
    print("  CHECK FAILED"); sys.exit(1)
PY
[ "$KEEP" = 1 ] && echo "  (kept: $WORK)"
exit 0
