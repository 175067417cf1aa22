"""Label Studio: the labeling config (:mod:`.config`), tasks with pre-annotations (:mod:`.tasks`), the import of
exports, and server sync (:mod:`.sync`).

The import, one module per job, each importing only those above it:

- :mod:`.export` — reading and shape-checking an untrusted export: its tasks, and the annotation of one user;
- :mod:`.entities` — the repository's canonical entities: the pick list of a task, the ids an import accepts;
- :mod:`.records` — the repository's records an import may keep (provenance, decisions, canonical records);
- :mod:`.regions` — an annotation's result items grouped by region and checked, UTF-16 offsets repaired;
- :mod:`.links` — relations and cue regions read back: entity references, attribution chains, restatements;
- :mod:`.spans` — one annotation file from the checked regions: spans, relations, canonical records, document labels;
- :mod:`.importer` — the import itself: files planned, validated, checked for conflicts and written at once.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import EnvironmentProblem
from ..outputs import check_output_file
from ..writer import replace_file


class LabelStudioError(EnvironmentProblem):
    """What a Label Studio command needs is not there (a set, a server, a token); the message says what to do."""


def write_output(out: Path, data: bytes, corpus_root: Path) -> Path:
    """Write a config or task file to ``out``: a file outside the corpus that is none of the checkout's own
    (:func:`chipwar.outputs.check_output_file`)."""
    return replace_file(check_output_file(out, corpus_root, "--out"), data)
