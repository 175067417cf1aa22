"""Shared fixtures: the real repository, and broken copies of it in a temporary folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHIPWAR = [sys.executable, "-m", "chipwar"]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A copy of the repository's corpus, schema, annotations and generated Markdown."""
    root = tmp_path / "repo"
    for name in ("corpus", "schema", "annotations"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, root / name)
    for md in REPO.glob("*.md"):
        shutil.copy(md, root / md.name)
    return root


def run_chipwar(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real command line, as a user would."""
    return subprocess.run([*CHIPWAR, *args], cwd=cwd or REPO, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)
