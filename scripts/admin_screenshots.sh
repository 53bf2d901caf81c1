#!/usr/bin/env bash
# Rebuild docs/screenshots/en/admin-*.png and docs/screenshots/zh-CN/admin-*.png (or only the
# languages named: scripts/admin_screenshots.sh zh_CN). For each language: a fresh demo database in
# a temporary folder, demo traffic, the admin on a free port, Playwright + /usr/bin/chromium with the
# browser asking for that language, then everything stopped. The README shows the English ones.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD  # this tree's api package, whatever else is installed
languages=("$@")
[ ${#languages[@]} -gt 0 ] || languages=(en zh_CN)

shots() {
  local language=$1 folder=$2 work port admin password
  work=$(mktemp -d)
  # TASKLINK_BASE_URL: the links' public address, which the admin's QR codes carry (the demo API's).
  export TASKLINK_DEMO=1 TASKLINK_DATABASE_URL="sqlite:///$work/demo.db" TASKLINK_SECRET_KEYS=screenshots-only-key \
    TASKLINK_BASE_URL=http://127.0.0.1:5000
  flask --app api init-db >/dev/null
  flask --app api seed-demo --shop-url http://shop.localhost:5000 >/dev/null
  password=$(flask --app api create-advertiser --name "New Brand" --email new@brand.test | awk '/password/{print $2}')
  python scripts/demo_traffic.py
  port=$(python -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  streamlit run admin_app.py --server.headless true --server.port "$port" --server.address 127.0.0.1 \
    --browser.gatherUsageStats false > "$work/streamlit.log" 2>&1 &
  admin=$!
  trap 'kill $admin 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/_stcore/health" >/dev/null && break; sleep 0.5; done
  python scripts/admin_screenshots.py "http://127.0.0.1:$port" "$work/shots" new@brand.test "$password" \
    --language "$language"
  mkdir -p "docs/screenshots/$folder"
  cp "$work"/shots/admin-*.png "docs/screenshots/$folder/"
  kill $admin 2>/dev/null || true
  wait $admin 2>/dev/null || true
  rm -rf "$work"
  trap - EXIT
}

for language in "${languages[@]}"; do
  case $language in
    en) shots en en ;;
    zh_CN) shots zh_CN zh-CN ;;
    *) echo "unknown language: $language (en or zh_CN)" >&2; exit 2 ;;
  esac
done
echo "docs/screenshots/{en,zh-CN}/admin-*.png updated; look at each one before committing."
