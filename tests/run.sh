#!/usr/bin/env bash
# Set up and run nuserve's whole check suite: a dependency audit (pip-audit), lint (ruff),
# types (mypy --strict), and every test, integration tests included (a real Kafka broker and
# real HTTP servers on 127.0.0.1, hostile clients among them).
# Usage: bash tests/run.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=${NUSERVE_VENV:-.venv}
export PIP_CACHE_DIR=${PIP_CACHE_DIR:-$HOME/.cache/pip}

# System packages some integration tests need, installed when missing (as root, e.g. in CI):
# chromium (the monitoring dashboard in a headless browser) and postgresql (the monitoring
# store's PostgreSQL backend; tests/postgres.py runs a throwaway cluster from its binaries).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== apt-get install ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  else
    echo "missing ${missing[*]}: the tests that need them skip (CI=true makes them fail)" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
# llama-cpp-python (the llm extra) is only an sdist on PyPI: the first install builds llama.cpp
# (27 min on two cores shared with other builds; pip caches the wheel in PIP_CACHE_DIR, later
# installs take seconds). The flags leave out what nuserve does not use (examples, tests, the
# server, the multimodal tools, curl, OpenMP).
export CMAKE_ARGS=${CMAKE_ARGS:-"-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF -DGGML_OPENMP=OFF"}
"$VENV/bin/python" -m pip install -q -e ".[test,remote,docs,llm]"

echo "== pip-audit (installed dependencies, PyPI's vulnerability data)"
"$VENV/bin/python" tests/audit.py

echo "== ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check runtime
echo "== mypy --strict"
"$VENV/bin/mypy" runtime/nuserve
echo "== mkdocs build --strict (the documentation site, built outside the tree)"
SITE_DIR=$(mktemp -d)
NO_MKDOCS_2_WARNING=1 "$VENV/bin/mkdocs" build --strict --quiet -d "$SITE_DIR"
rm -rf "$SITE_DIR"
echo "== client venvs (kserve, mlserver: their own pins, under ~/.cache/nuserve)"
"$VENV/bin/python" -m tests.clients.venvs
echo "== pytest"
"$VENV/bin/python" -m pytest -p no:cacheprovider "$@"
