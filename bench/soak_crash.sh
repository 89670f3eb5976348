#!/usr/bin/env bash
# Crash-safety soak: SIGKILL a writer at random points ROUNDS times (default 200), checking
# after each restart that the vector store and the history agree and nothing acknowledged
# was lost. The suite runs the same test with 4 rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
CRASH_ROUNDS="${1:-200}" .venv/bin/python -m pytest -q tests/test_crash.py
