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
step() { echo "== $*" >&2; }

step "setting up $VENV: pip install -e '.[serve,iris]' (a minute the first time)"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[serve,iris]"

step "training the iris model into examples/iris/model"
"$VENV/bin/python" examples/iris/train.py

step "starting nuserve serve function.yaml on port $PORT (it says when its worker serves)"
"$VENV/bin/nuserve" serve function.yaml --port "$PORT" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT

body='{"inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}'
echo "POST /v2/models/iris/infer $body"
"$VENV/bin/nuserve" invoke "http://127.0.0.1:$PORT" /v2/models/iris/infer --wait 30 --body "$body"
