#!/usr/bin/env bash
# The main job from a fresh clone: install chipwar, validate the corpus, build the Hugging
# Face dataset into dist/chipwar, write the review site into dist/review, then load the
# dataset back once and print how to load it.
# Usage: bash scripts/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[hf,labelstudio,review,export]'
.venv/bin/chipwar validate
.venv/bin/chipwar stats
.venv/bin/chipwar build --out dist/chipwar
.venv/bin/chipwar review --compare pass-1 pass-2 pass-3 --out dist/review
echo
echo "Loading it back with datasets.load_dataset:"
.venv/bin/python - "$PWD/dist/chipwar" <<'PY'
import sys
from datasets import get_dataset_config_names, load_dataset

folder = sys.argv[1]
for config in get_dataset_config_names(folder):
    ds = load_dataset(folder, config)
    print(f"  {config}: " + ", ".join(f"{split} {len(rows)} rows" for split, rows in ds.items()))
print(f"\nIn Python:\n  from datasets import load_dataset\n  ds = load_dataset({folder!r}, 'claims')")
PY
