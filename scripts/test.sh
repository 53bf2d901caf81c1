#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite on SQLite and on PostgreSQL.
# Usage: scripts/test.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# System packages: PostgreSQL 15 (server), Chromium and a Chinese font (extension tests), wrk and Redis
# (scale-out tests), Node and npm (extension tests, ESLint).
need=()
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v pg_ctlcluster >/dev/null || need+=(postgresql-15)
[ -x /usr/bin/chromium ] || need+=(chromium)
# A Chinese font: the extension's zh-CN screens (e2e, screenshots) are drawn with it, not as empty boxes.
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-noto-cjk)
command -v redis-server >/dev/null || need+=(redis-server)
command -v wrk >/dev/null || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

python3 -m pip install -q -e '.[test]'

# PostgreSQL: start the system cluster and give this user a role and a test database.
as_root pg_ctlcluster 15 main start 2>/dev/null || true
for _ in $(seq 1 30); do as_root runuser -u postgres -- pg_isready -q && break; sleep 0.5; done
me=$(id -un)
as_root runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='$me'" | grep -q 1 \
  || as_root runuser -u postgres -- psql -qc "CREATE ROLE \"$me\" SUPERUSER LOGIN"
as_root runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname='tasklink_test'" | grep -q 1 \
  || as_root runuser -u postgres -- createdb -O "$me" tasklink_test
PG_URL="postgresql:///tasklink_test?host=/var/run/postgresql"

status=0
# The gates (lint, format, types); a failing gate fails the run, the tests still run.
scripts/check.sh || status=1
if [ -d extension ] && ls extension/tests/*.test.mjs >/dev/null 2>&1; then
  echo "== extension unit tests (node --test)"
  node --test extension/tests/ || status=1
fi
echo "== pytest on SQLite"
python3 -m pytest "$@" || status=1
echo "== pytest on PostgreSQL"
TASKLINK_TEST_DATABASE_URL="$PG_URL" python3 -m pytest "$@" || status=1
exit $status
