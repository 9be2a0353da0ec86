#!/usr/bin/env bash
# The `openssl` command, which moto_proxy (tests/awsexporters/test_aws_session_keys.py: proxy_address
# through moto's HTTPS-intercepting proxy) runs to make a certificate per AWS host. Idempotent and quiet:
# does nothing when the command is there (most images have it).
set -euo pipefail
if ! command -v openssl >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] && SUDO="" || SUDO="sudo"
  echo "install-test-servers: installing openssl with apt-get" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    openssl >/dev/null
fi
