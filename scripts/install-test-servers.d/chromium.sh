#!/usr/bin/env bash
# Debian's chromium, for the zpages browser tests (tests/zpages): the pages are rendered and screenshotted
# headless by a real browser. Idempotent and quiet; re-running does nothing once chromium is there.
set -euo pipefail

command -v chromium >/dev/null 2>&1 && exit 0
install() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; }
if ! install 2>/dev/null; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  install
fi
chromium --version >/dev/null
