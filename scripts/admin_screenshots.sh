#!/usr/bin/env bash
# Rebuild docs/screenshots/admin-*.png: a fresh demo database in a temporary folder,
# demo traffic, the admin on a free port, Playwright + /usr/bin/chromium, then everything stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
# TASKLINK_BASE_URL: the links' public address, which the admin's QR codes carry (the demo API's).
export TASKLINK_DEMO=1 TASKLINK_DATABASE_URL="sqlite:///$WORK/demo.db" TASKLINK_SECRET_KEYS=screenshots-only-key \
  TASKLINK_BASE_URL=http://127.0.0.1:5000
flask --app api init-db >/dev/null
flask --app api seed-demo --shop-url http://shop.localhost:5000 >/dev/null
PASSWORD=$(flask --app api create-advertiser --name "New Brand" --email new@brand.test | awk '/password/{print $2}')
PYTHONPATH=$PWD python scripts/demo_traffic.py
PORT=$(python -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
streamlit run admin_app.py --server.headless true --server.port "$PORT" --server.address 127.0.0.1 \
  --browser.gatherUsageStats false > "$WORK/streamlit.log" 2>&1 &
ADMIN=$!
trap 'kill $ADMIN 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/_stcore/health" >/dev/null && break; sleep 0.5; done
python scripts/admin_screenshots.py "http://127.0.0.1:$PORT" "$WORK/shots" new@brand.test "$PASSWORD"
for name in sign-in sign-in-refused empty program-and-campaign tracking tracking-off landing-pages \
            landing-pages-refused tasks tasks-archive-confirm tasks-archived partners partners-pending \
            partners-confirm partners-qr readiness performance conversions keys-rotated; do
  cp "$WORK/shots/admin-$name.png" docs/screenshots/
done
echo "docs/screenshots/admin-*.png updated; look at each one before committing."
