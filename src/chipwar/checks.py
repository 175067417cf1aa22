"""Every check of a checkout in one pass: the data (:mod:`chipwar.validation`), then the generated files.

Generated figures (label tables, agreement, counts in the Markdown files) are computed from
the data, so they are checked only when the data is sound and the whole corpus was asked
for. ``chipwar validate`` and ``chipwar release`` run this; ``chipwar build`` needs only the
data checks.
"""

from __future__ import annotations

from pathlib import Path

from .corpus import Corpus
from .engines import Engine
from .generated import check_generated, generated_files, needed_facts
from .report import Report
from .schema import load_schemas
from .validation.run import Progress, Validation, validate_scope
from .validation.scope import Scope, scope_of


def check_scope(corpus: Corpus, scope: Scope, progress: Progress | None = None, engine: Engine | None = None) -> Validation:
    """The data checks of ``scope`` (on ``engine``), plus the generated files when it is the whole
    corpus and sound: what their blocks count is counted in the same pass, nothing is read twice."""
    sources, unreadable = generated_files(corpus) if scope.whole else ([], [])
    validation = validate_scope(corpus, scope, progress, engine=engine, facts=needed_facts(sources) if scope.whole else None)
    if scope.whole and validation.report.ok:
        assert validation.facts is not None
        validation.report.extend(unreadable)
        validation.report.extend(check_generated(corpus, load_schemas(corpus.schema_dir), sources, validation.facts))
    return validation


def check_all(corpus: Corpus, only: Path | None = None, progress: Progress | None = None) -> Report:
    """:func:`check_scope` of the whole corpus, or of what ``only`` points at."""
    return check_scope(corpus, scope_of(corpus, only), progress).report
