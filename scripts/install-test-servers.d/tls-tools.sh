#!/usr/bin/env bash
# The `openssl` command line tool, which docs/msk-connect.md's certificate commands use and the test suite
# runs as written (tests/jmx: the `recipe` fixture). `keytool` comes with the JDK (scripts/bootstrap).
# Idempotent and quiet: does nothing when openssl is there.
set -euo pipefail
command -v openssl >/dev/null 2>&1 && exit 0
[ "$(id -u)" = 0 ] && SUDO="" || SUDO="sudo"
echo "install-test-servers: installing openssl with apt-get" >&2
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    openssl >/dev/null 2>&1; then
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    openssl >/dev/null
fi
