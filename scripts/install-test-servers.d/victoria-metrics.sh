#!/usr/bin/env bash
# victoria-metrics from Debian trixie (bookworm's is too old to accept OTLP), for the otlphttp exporter's
# integration tests. Fetched with `apt-get download` against a private trixie sources list and apt state,
# unpacked with dpkg-deb -x into a cache dir: the system's apt sources, lists and packages stay untouched,
# and the private apt state is removed afterwards.
# The tests find the binary at $VICTORIA_METRICS_DIR/usr/bin/victoria-metrics (same default as below).
# Idempotent and quiet; re-running does nothing once the binary is there.
set -euo pipefail

dest="${VICTORIA_METRICS_DIR:-/var/cache/collector-test-servers/victoria-metrics}"
[ -x "$dest/usr/bin/victoria-metrics" ] && exit 0

state="$(dirname "$dest")/apt-trixie"
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/etc" "$dest"
cat > "$state/etc/sources.list" <<'LIST'
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
LIST
: > "$state/status"

apt_private=(
  -o "Dir::State=$state"
  -o "Dir::State::Lists=$state/lists"
  -o "Dir::State::status=$state/status"
  -o "Dir::Cache=$state/cache"
  -o "Dir::Etc::SourceList=$state/etc/sources.list"
  -o "Dir::Etc::SourceParts=-"
  -o "Debug::NoLocking=1"
  -o "APT::Get::List-Cleanup=0"
  -o "APT::Sandbox::User=root"
)
apt-get "${apt_private[@]}" update -qq >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work" "$state"' EXIT
(cd "$work" && apt-get "${apt_private[@]}" download -qq victoria-metrics >/dev/null)
dpkg-deb -x "$work"/victoria-metrics_*.deb "$work/root"
# only the single-node server is needed (the package also ships vmagent, vmctl, vmbackup ...)
install -D -m 0755 "$work/root/usr/bin/victoria-metrics" "$dest/usr/bin/victoria-metrics"
"$dest/usr/bin/victoria-metrics" -version >/dev/null
