#!/usr/bin/env bash
# Set up and run nuserve's whole check suite: lint (ruff), types (mypy --strict), and every
# test, integration tests included (a real Kafka broker and real HTTP servers on 127.0.0.1).
# Usage: bash tests/run.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=${NUSERVE_VENV:-.venv}
export PIP_CACHE_DIR=${PIP_CACHE_DIR:-$HOME/.cache/pip}

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[test,remote]"

echo "== ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check runtime
echo "== mypy --strict"
"$VENV/bin/mypy" runtime/nuserve
echo "== pytest"
"$VENV/bin/python" -m pytest -p no:cacheprovider "$@"
