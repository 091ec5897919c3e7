#!/usr/bin/env bash
# Set up, train, serve the iris example with `nuserve serve function.yaml` (the very handler
# Nuclio runs), send one request, print the answer, and stop the server.
# Usage: bash examples/iris/run.sh      (PORT=8080 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."

PY=${PYTHON:-python3}
VENV=${NUSERVE_VENV:-.venv}
PORT=${PORT:-8080}
export PIP_CACHE_DIR=${PIP_CACHE_DIR:-$HOME/.cache/pip}

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[serve,iris]"

"$VENV/bin/python" examples/iris/train.py

"$VENV/bin/nuserve" serve function.yaml --port "$PORT" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT

for _ in $(seq 1 150); do
  if "$VENV/bin/nuserve" invoke "http://127.0.0.1:$PORT" /v2/health/ready >/dev/null 2>&1; then
    break
  fi
  sleep 0.2
done

body='{"inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}'
echo "POST /v2/models/iris/infer $body"
"$VENV/bin/nuserve" invoke "http://127.0.0.1:$PORT" /v2/models/iris/infer --body "$body"
