#!/usr/bin/env bash
# Docker engine for the container test (tests/ops/test_container.py): Debian's docker.io (dockerd,
# containerd, runc) when no dockerd is installed — a docker CLI alone (e.g. /usr/local/bin/docker) is not
# an engine —, debootstrap, which builds the stand-in base image (no image registry is reachable), and
# docker-compose, which checks deploy/docker-compose.yaml (tests/ops/test_deploy.py).
# The package's own service is kept from starting: the test fixture starts dockerd when `docker info` fails.
# Idempotent and quiet: does nothing when both are there.
set -euo pipefail

need=()
command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ] || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
[ ${#need[@]} -eq 0 ] && exit 0

[ "$(id -u)" = 0 ] && SUDO="" || SUDO="sudo"
echo "install-test-servers: installing ${need[*]} with apt-get" >&2
own_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  own_policy=1
fi
install() {
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    "${need[@]}" >/dev/null
}
install || { $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq && install; }
[ -n "$own_policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d
exit 0
