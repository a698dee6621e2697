#!/bin/sh
# Runs the browser tests against the built hub (.build/debug/dugnad, or
# $DUGNAD_BIN) with the project's test Python (.venv-test, made by
# scripts/install-deps with web-client/tests/requirements.txt).
set -eu
cd "$(dirname "$0")/../.."
exec .venv-test/bin/python -m pytest -q web-client/tests "$@"
