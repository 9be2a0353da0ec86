#!/usr/bin/env bash
# Test bed for the Debezium PostgreSQL connector (tests/jmx): Debian's PostgreSQL 15 server binaries
# (initdb, postgres, pg_ctl under /usr/lib/postgresql/15/bin) and the `postgres` system user the tests run
# the throwaway cluster as (PostgreSQL refuses to run as root). The connector's jars come with the
# Debezium jars of debezium-mariadb.sh. Idempotent and quiet: does nothing when the server is there.
# The package's own cluster/service is not used (the tests initdb a temp directory on a free port).
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/postgres" ]; then
  [ "$(id -u)" = 0 ] && SUDO="" || SUDO="sudo"
  echo "install-test-servers: installing postgresql-15 with apt-get" >&2
  # Keep the package's service from starting, with a policy-rc.d of our own unless the machine has one.
  own_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  install() {
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      --no-install-recommends postgresql-15 postgresql-client-15 >/dev/null
  }
  install || { $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq && install; }
  [ -n "$own_policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d
fi
# The package creates the `postgres` user; make sure of it where the binaries came another way.
if ! id postgres >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] && SUDO="" || SUDO="sudo"
  $SUDO useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi
