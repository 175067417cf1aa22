#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what the tests need, then runs pytest.
# Needs: chipwar's test dependencies (.venv), Label Studio in its own venv (.labelstudio/venv;
# the tests start it on 127.0.0.1 themselves), and Debian's chromium with CJK and emoji fonts for the browser tests.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
# cffconvert (the Citation File Format's validator, for the CITATION.cff test) pins jsonschema<4 since 2021, which would
# downgrade the project's jsonschema; its validation runs with 4.x, so it is installed without that pin.
.venv/bin/python -m pip install --quiet pykwalify ruamel.yaml requests click
.venv/bin/python -m pip install --quiet --no-deps 'cffconvert==2.0.0'
python3 scripts/labelstudio_server.py install
# Debian's chromium for the browser tests (never 'playwright install'), and Debian's CJK and emoji fonts
# so that the screen tests (and their screenshots) show Chinese text and emoji rather than boxes.
MISSING=()
[ -x /usr/bin/chromium ] || MISSING+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || MISSING+=(fonts-noto-cjk)
fc-list ":family=Noto Color Emoji" 2>/dev/null | grep -q . || MISSING+=(fonts-noto-color-emoji)
if [ "${#MISSING[@]}" -gt 0 ]; then
  echo "Installing Debian's ${MISSING[*]} for the browser tests…" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${MISSING[@]}" >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
