"""Label Studio: the labeling config (:mod:`.config`), tasks with pre-annotations (:mod:`.tasks`), the import of
exports, and server sync (:mod:`.sync`).

The import, one module per job, each importing only those above it:

- :mod:`.export` — reading and shape-checking an untrusted export: its tasks, and the annotation of one user;
- :mod:`.records` — the repository's records an import may keep (provenance, decisions, canonical entities);
- :mod:`.regions` — an annotation's result items grouped by region and checked, UTF-16 offsets repaired;
- :mod:`.spans` — one annotation file from the checked regions: spans, relations, canonical records, document labels;
- :mod:`.importer` — the import itself: files planned, validated, checked for conflicts and written at once.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import EnvironmentProblem, UsageError
from ..outputs import check_output
from ..writer import replace_file


class LabelStudioError(EnvironmentProblem):
    """What a Label Studio command needs is not there (a set, a server, a token); the message says what to do."""


def write_output(out: Path, data: bytes, corpus_root: Path) -> Path:
    """Write a config or task file to ``out``, which must lie outside the corpus's own files and not be a folder."""
    target = check_output(out, corpus_root, "--out")
    if target.is_dir() or (target.exists() and not target.is_file()):
        raise UsageError(f"--out {out}: is a folder or a device, not a file", hint="name a file, e.g. dist/tasks.json")
    try:
        return replace_file(target, data)
    except OSError as exc:
        raise EnvironmentProblem(f"--out {out}: cannot write ({exc.strerror})", hint="check the folder exists and is writable") from None
