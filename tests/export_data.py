"""Corpora the export tests share: the real one with a planted emoji/CJK/combining-mark document, and a synthetic one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from chipwar.corpus import Corpus
from chipwar.synthetic import write_synthetic_corpus

from .conftest import REPO, run_chipwar, span_at, write_set
from .labelstudio_data import EMOJI_DOC, EMOJI_TEXT, add_emoji_document

#: The planted document's first line: emoji (a ZWJ sequence), CJK and a combining mark inside one span.
FIRST_LINE = EMOJI_TEXT.split("\n")[0]


def planted(root: Path) -> Path:
    """A copy of the real corpus plus EMOJI_DOC, with a zone over its first line so that astral
    emoji, CJK and a combining mark sit inside a span as well as before the others."""
    for name in ("corpus", "schema", "annotations"):
        shutil.copytree(REPO / name, root / name)
    data = add_emoji_document(root)
    zone = span_at(EMOJI_TEXT, EMOJI_DOC, "z1", FIRST_LINE, "body")
    data["zones"] = [zone]
    write_set(root, "gold", data)
    return root


@pytest.fixture(scope="session")
def real_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return planted(tmp_path_factory.mktemp("planted") / "repo")


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "repo"
    write_synthetic_corpus(root, 6, 240, seed=3)
    return root


def export(root: Path, fmt: str, out: Path, *extra: str) -> dict[str, Any]:
    """Run ``chipwar export`` on a corpus; the JSON envelope flattened, with the exit code."""
    ran = run_chipwar("export", fmt, "--out", str(out), "--corpus", str(root), "--format", "json", *extra)
    envelope = json.loads(ran.stdout)
    return {**(envelope["result"] or {}), "exit_code": ran.returncode, "problems": envelope["problems"], "counts": envelope["counts"],
            "error": envelope["error"]}


def gold(root: Path, set_name: str = "gold") -> list[tuple[str, dict, str, dict]]:
    """(doc_id, metadata, text, annotation file) of every document of a set, in doc-id order."""
    corpus = Corpus(root)
    return [(d, corpus.read_metadata(d), corpus.read_text(d), corpus.read_annotations(set_name, d))
            for d in corpus.annotated_doc_ids(set_name)]
