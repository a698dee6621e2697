#!/bin/sh
# Runs the browser tests against the built hub (.build/debug/dugnad, or
# $DUGNAD_BIN). Installs nothing: CI provides chromium, chromium-driver and
# the Python packages in web-client/tests/requirements.txt.
set -eu
cd "$(dirname "$0")/../.."
exec python3 -m pytest -q web-client/tests "$@"
