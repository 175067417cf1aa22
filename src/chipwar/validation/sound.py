"""Loaders for readers that trust the data (stats, agreement, generated figures): only files that pass are given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..corpus import Corpus, printable, refusal
from ..files import loads_json
from ..report import Problem
from ..schema import Schemas
from .chunk import json_problem
from .listing import folder_refusal, list_folder, list_sets, refused
from .schema_problems import Kind, schema_problems, whole_float_problems
from .scope import WHOLE


def load_sound(corpus: Corpus, schemas: Schemas, kind: Kind, path: Path, doc_id: str) -> tuple[Any, Problem | None]:
    """One JSON file for a reader that trusts its shape (stats, agreement, generated figures):
    its value when it may be read, parses, passes the schema and has integer offsets; else
    ``None`` and a problem saying it was skipped and why."""
    rel = printable(corpus.rel(path))
    why = refusal(corpus.root, path)
    if why is None:
        try:
            data = loads_json(path.read_bytes())
        except OSError as exc:
            why = f"cannot be read ({exc.strerror})"
        except ValueError as exc:
            why = json_problem(exc, rel, doc_id).message
        else:
            validator = schemas.document_validator if kind == "document" else schemas.annotations_validator
            problems = schema_problems(schemas, validator, data, rel, doc_id) or whole_float_problems(kind, data, rel, doc_id)
            if not problems:
                return data, None
            first = problems[0]
            why = f"{first.message} (at {first.pointer or 'the top'})"
    return None, Problem("file_skipped", f"skipped: {why}", rel, doc_id, hint="run `chipwar validate` for every problem in it; "
                         "the figures leave this file out")


def readable_files(corpus: Corpus, folder: Path, suffix: str) -> tuple[list[str], list[Problem]]:
    """Ids of the files of a corpus folder (``corpus/``, a set) that may be read, sorted, and a
    problem for each that may not (a symlink out of the repository, a folder, a bad name)."""
    root, rel = str(corpus.root), printable(corpus.rel(folder))
    why = folder_refusal(root, str(folder))
    if why is not None:
        return [], [refused(rel, None, why)]
    listed = list_folder(root, str(folder), rel, (suffix,))
    return sorted(name.removesuffix(suffix) for name in listed.files), [p for _, p in sorted(listed.refused.items())]


def readable_sets(corpus: Corpus) -> tuple[list[str], list[Problem]]:
    """Names of the annotation sets that may be read, sorted, and a problem for each folder that may not."""
    folders, problems = list_sets(corpus, WHOLE, str(corpus.root))
    return [f.rel.removeprefix("annotations/") for f in folders], problems
