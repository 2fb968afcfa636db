#!/usr/bin/env bash
# The gateway's main job on the embedded default: a demo spool (the sample configuration: a carrier,
# four agencies, a terminal; SQLite store) in .build-demo/, the sample batches dropped into the
# carrier's drop directory, one `gateway run --once`, and what it did: the receipts in the carrier's
# pickup directory and the ledger. Run it again to see an identical replay acknowledged again.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-test-deps.sh --build-only
swift build -c release --product gateway 2>&1 | grep -v 'prohibited flag' | tail -1
GW="$PWD/.build/release/gateway"
DEMO="$PWD/.build-demo/spool"

mkdir -p "$DEMO"
cp spool/gateway.toml "$DEMO/gateway.toml"
for p in CARRIERX CUSTOMS CIQ BORDER MSA KEMBATERM; do mkdir -p "$DEMO/partners/$p/drop" "$DEMO/partners/$p/pickup"; done
echo
echo "== gateway check-config --config $DEMO/gateway.toml"
"$GW" check-config --config "$DEMO/gateway.toml"

echo
echo "== the carrier drops: $(cd spool/samples && echo *.edi), a zip batch of two of them, and a file that is not EDIFACT"
cp spool/samples/*.edi "$DEMO/partners/CARRIERX/drop/"
python3 - "$DEMO/partners/CARRIERX/drop" <<'PY'
import sys, zipfile, os
drop = sys.argv[1]
# Built beside the drop and renamed in, as a partner using the rename convention uploads it.
with zipfile.ZipFile(os.path.join(drop, ".batch.zip.part"), "w", zipfile.ZIP_DEFLATED) as z:
    for name in ("carrierx-manifest-ok.edi", "carrierx-manifest-bad-count.edi"):
        data = open(os.path.join(drop, name), "rb").read()
        z.writestr("batch/" + name, data.replace(b"CUS000", b"ZIP000"))
os.rename(os.path.join(drop, ".batch.zip.part"), os.path.join(drop, "batch.zip"))
open(os.path.join(drop, "notes.edi"), "w").write("Dear customs, please find our manifest attached.\n")
PY

echo
echo "== gateway run --once"
set +e; "$GW" run --once --config "$DEMO/gateway.toml"; set -e

echo
echo "== the carrier's pickup directory ($DEMO/partners/CARRIERX/pickup): one receipt per interchange or refused file"
ls -1 "$DEMO/partners/CARRIERX/pickup"
show() {  # $1: a receipt file
  echo
  echo "-- $(basename "$1")"
  tr "'" "\n" < "$1" | sed '/^$/d' | sed "s/\$/'/"
}
first_contrl=$(ls "$DEMO"/partners/CARRIERX/pickup/CONTRL-* 2>/dev/null | head -1)
first_aperak=$(ls "$DEMO"/partners/CARRIERX/pickup/APERAK-* 2>/dev/null | head -1)
[ -n "$first_contrl" ] && show "$first_contrl"
[ -n "$first_aperak" ] && show "$first_aperak"

echo
echo "== what each agency got (routed copies of the accepted manifests, per its [partner.routing] rule)"
for agency in CUSTOMS CIQ BORDER MSA; do
  echo "-- $agency: $(ls "$DEMO/partners/$agency/pickup" 2>/dev/null | tr '\n' ' ')"
done
echo
echo "== gateway trace MEDUSH123457 (a bill of lading: every file, decision and copy about it)"
"$GW" trace MEDUSH123457 --config "$DEMO/gateway.toml" || true

echo
echo "== the agencies answer (CUSRES): customs releases MAN2025-0042, inspection and quarantine wants to inspect"
echo "   MAN2025-0043"
cusres() {  # $1: sender, $2: reference, $3: processing indicator (4 release, 5 inspect, 7 hold), $4: manifest
  printf "UNA:+.? 'UNB+UNOC:3+%s+SWGATEWAY:ZZZ+250206:1000+%s'UNH+1+CUSRES:D:96A:UN'BGM+962+%s+9'DTM+137:202502061000:203'GIS+%s'RFF+AFB:%s'UNT+6+1'UNZ+1+%s'" \
    "$1" "$2" "$2" "$3" "$4" "$2"
}
cusres CNCQCUSTOMS:ZZZ CUSREL0042 4 MAN2025-0042 > "$DEMO/partners/CUSTOMS/drop/release-0042.edi"
touch "$DEMO/partners/CUSTOMS/drop/release-0042.edi.ok"
cusres CNCQCIQ:ZZZ CIQINS0043 5 MAN2025-0043 > "$DEMO/partners/CIQ/drop/inspect-0043.edi"
touch "$DEMO/partners/CIQ/drop/inspect-0043.edi.ok"
echo
echo "== gateway run --once"
set +e; "$GW" run --once --config "$DEMO/gateway.toml"; set -e
echo
echo "== the terminal's pickup ($DEMO/partners/KEMBATERM/pickup): the boxes to present for inspection"
for f in "$DEMO"/partners/KEMBATERM/pickup/*; do [ -e "$f" ] && { echo "-- $(basename "$f")"; cat "$f"; }; done
echo
echo "== gateway verdict explain MAN2025-0042 (released by customs; still waiting for border control and maritime)"
"$GW" verdict explain MAN2025-0042 --config "$DEMO/gateway.toml" || true

echo
echo "== the carrier asks where its goods stand (schemas/status-request-1.xsd) and gets a CUSRES back"
cat > "$DEMO/partners/CARRIERX/drop/.status.xml.part" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<StatusRequest xmlns="urn:swg:status-request:1"><Reference>ASK-0001</Reference><Bill>MEDUSH123456</Bill><Manifest>MAN2025-0043</Manifest></StatusRequest>
XML
mv "$DEMO/partners/CARRIERX/drop/.status.xml.part" "$DEMO/partners/CARRIERX/drop/status-request.xml"
set +e; "$GW" run --once --config "$DEMO/gateway.toml"; set -e
reply=$(ls "$DEMO"/partners/CARRIERX/pickup/CUSRES-REPLY-* 2>/dev/null | head -1)
[ -n "$reply" ] && show "$reply"

echo
echo "== gateway status"
"$GW" status --config "$DEMO/gateway.toml"
echo
echo "== gateway jobs list --limit 12"
"$GW" jobs list --config "$DEMO/gateway.toml" --limit 12
echo
echo "The drop directory is now empty ($(ls -A "$DEMO/partners/CARRIERX/drop" | wc -l) files); the raw bytes and the"
echo "ledger are under $DEMO/state. Try: $GW jobs show 2 --config $DEMO/gateway.toml"
echo "Run this script again: the same files come back as identical replays, acknowledged again and nothing else."
