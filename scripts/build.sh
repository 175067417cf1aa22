#!/usr/bin/env bash
# The main job from a fresh clone: install chipwar, validate the corpus, summarise it.
# Usage: bash scripts/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[hf]'
.venv/bin/chipwar validate
.venv/bin/chipwar stats
