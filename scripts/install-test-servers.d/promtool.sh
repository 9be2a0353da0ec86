#!/usr/bin/env bash
# promtool (from Debian's `prometheus` package), the Prometheus project's own checker of the text
# exposition format, for the prometheus exporter's conformance tests (`promtool check metrics`).
# Only the promtool binary is wanted, not the Prometheus server, its web assets and its service user
# (the package is 19 MB, 96 MB installed): the .deb is fetched with `apt-get download` and promtool alone
# is unpacked into a cache dir; nothing is installed system-wide.
# The tests find it at $PROMTOOL_DIR/promtool (same default as below). Idempotent and quiet.
set -euo pipefail

dest="${PROMTOOL_DIR:-/var/cache/collector-test-servers/promtool}"
[ -x "$dest/promtool" ] && exit 0

[ "$(id -u)" = 0 ] && SUDO="" || SUDO="sudo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download -qq prometheus >/dev/null 2>&1; then
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  apt-get download -qq prometheus >/dev/null
fi
dpkg-deb -x prometheus_*.deb root
$SUDO install -D -m 0755 root/usr/bin/promtool "$dest/promtool"
"$dest/promtool" --version >/dev/null 2>&1
