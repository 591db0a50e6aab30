#!/usr/bin/env bash
# Installs the real tools the tests run (Debian packages), when they are missing:
#   promtool (prometheus), amtool (prometheus-alertmanager), redis-server and redis-sentinel (redis-server, redis-sentinel),
#   pgbouncer, and PostgreSQL's server binaries (postgresql).
set -euo pipefail
need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-sentinel >/dev/null 2>&1 || need+=(redis-sentinel)
command -v pgbouncer >/dev/null 2>&1 || need+=(pgbouncer)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then echo "system tools: all present"; exit 0; fi
echo "system tools: installing ${need[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# --no-install-recommends keeps it small; policy-rc.d stops Debian from starting the daemons it installs
echo 'exit 101' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null; $SUDO chmod +x /usr/sbin/policy-rc.d
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
$SUDO rm -f /usr/sbin/policy-rc.d
echo "system tools: done"
