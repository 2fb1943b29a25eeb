#!/usr/bin/env bash
# Run the whole test suite; pytest's "no tests collected" (exit 5) is a failure here too.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest -q "$@"
