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
echo "== the carrier drops: $(cd spool/samples && echo *.edi)"
cp spool/samples/*.edi "$DEMO/partners/CARRIERX/drop/"

echo
echo "== gateway run --once"
"$GW" run --once --config "$DEMO/gateway.toml"

echo
echo "== the carrier's pickup directory ($DEMO/partners/CARRIERX/pickup)"
ls -1 "$DEMO/partners/CARRIERX/pickup"
for f in "$DEMO"/partners/CARRIERX/pickup/*; do
  echo
  echo "-- $(basename "$f")"
  tr "'" "\n" < "$f" | sed '/^$/d' | sed "s/\$/'/"
done
echo
echo "(the drop directory is now empty: $(ls -A "$DEMO/partners/CARRIERX/drop" | wc -l) files; the raw bytes and the ledger are under $DEMO/state)"
