"""Every check of a checkout in one pass: the data (:mod:`chipwar.validate`), then the generated files.

Generated figures (label tables, agreement, counts in the Markdown files) are computed from
the data, so they are checked only when the data is sound and the whole corpus was asked
for. ``chipwar validate`` and ``chipwar release`` run this; ``chipwar build`` needs only the
data checks.
"""

from __future__ import annotations

from pathlib import Path

from .corpus import Corpus
from .generated import check_generated
from .report import Report
from .schema import load_schemas
from .validate import Progress, validate_corpus


def check_all(corpus: Corpus, only: Path | None = None, progress: Progress | None = None) -> Report:
    """The data checks, plus the generated files when the whole corpus is checked and sound."""
    report = validate_corpus(corpus, only=only, progress=progress)
    whole = only is None or only.resolve() == corpus.root
    if whole and report.ok:
        report.extend(check_generated(corpus, load_schemas(corpus.schema_dir)))
    return report
