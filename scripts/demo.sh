#!/usr/bin/env bash
# Installs Tasklink and starts the API (port 5000) and the admin (port 8501) on SQLite with demo data.
# Stop with Ctrl-C. Settings: see the README (TASKLINK_* variables).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install -q -e .
export TASKLINK_DEMO=1
# Partner postbacks may go to receivers on this machine (the demo's); never set this in production.
export TASKLINK_POSTBACKS_ALLOW_PRIVATE=${TASKLINK_POSTBACKS_ALLOW_PRIVATE:-1}
API_PORT=${API_PORT:-5000}
ADMIN_PORT=${ADMIN_PORT:-8501}

flask --app api init-db
flask --app api seed-demo --shop-url "http://shop.localhost:${API_PORT}"

trap 'kill 0' EXIT INT TERM
# The production server and settings (api/gunicorn_conf.py: gunicorn, gevent workers); two workers are plenty for a demo.
python3 -m gunicorn -c python:api.gunicorn_conf --bind "127.0.0.1:${API_PORT}" --workers 2 "api:create_app()" &
streamlit run admin_app.py --server.headless true --server.address 127.0.0.1 \
  --server.port "$ADMIN_PORT" --browser.gatherUsageStats false &
sleep 2
cat <<MSG

Tasklink is running:
  API            http://127.0.0.1:${API_PORT}/api/v1/openapi.json
  Admin          http://127.0.0.1:${ADMIN_PORT}   (brand@demo.test / demo-brand)
  Demo shop      http://shop.localhost:${API_PORT}/shop/   (cart and checkout: README, "Demo walk-through")
  Landing tag    http://127.0.0.1:${API_PORT}/tag.js
  Extension      chrome://extensions → Developer mode → Load unpacked → $(pwd)/extension
                 then sign in on its options page as partner@demo.test / demo-partner
Press Ctrl-C to stop.
MSG
wait
