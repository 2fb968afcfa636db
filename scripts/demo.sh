#!/usr/bin/env bash
# The gateway's main job on the embedded default, as far as it exists today: validate the sample
# batches a carrier dropped (spool/samples) and show the CONTRL receipt the gateway answers each with.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-test-deps.sh --build-only
swift build -c release --product gateway 2>&1 | grep -v 'prohibited flag' | tail -1
GW=.build/release/gateway
echo
echo "== gateway edifact validate spool/samples/*.edi"
"$GW" edifact validate spool/samples/*.edi || echo "(exit $?: at least one batch is rejected, as expected for the bad sample)"
for f in spool/samples/*.edi; do
  echo
  echo "== the CONTRL receipt for $f"
  "$GW" edifact contrl --newline "$f"
done
