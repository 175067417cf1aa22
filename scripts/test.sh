#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what the tests need, then runs pytest.
# Needs: chipwar's test dependencies (.venv), Label Studio in its own venv (.labelstudio/venv;
# the tests start it on 127.0.0.1 themselves), and Debian's chromium for the one browser test.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
python3 scripts/labelstudio_server.py install
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser test (never 'playwright install')…" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
