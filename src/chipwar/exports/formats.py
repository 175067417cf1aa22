"""What every export format is and gets: :class:`ExportFormat`, :class:`ExportInput`, :class:`ExportResult`.

A format's ``write`` fills a staging folder (:class:`chipwar.outputs.FolderBuild` swaps it in
whole) from the documents of one annotation set that pass validation; what the format cannot
express is counted in :attr:`ExportResult.dropped`, never left out silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

from ..corpus import Corpus
from ..report import Report
from ..schema import Schemas


@dataclass(frozen=True)
class ExportDocument:
    """One document that passes validation, with its annotation file in the exported set."""

    doc_id: str
    metadata: dict[str, Any]
    text: str
    annotations: dict[str, Any]


@dataclass(frozen=True)
class ExportInput:
    """What every writer gets: the corpus, its schemas, the set's name and its sound documents.

    ``documents`` yields only documents whose text, metadata and annotation file pass every
    check ``chipwar validate`` makes (:mod:`chipwar.validation.sound`), in doc-id order; the
    run has already listed the others in its report. Call it again to iterate again.
    """

    corpus: Corpus
    schemas: Schemas
    set_name: str
    documents: Callable[[], Iterator[ExportDocument]]


@dataclass
class ExportResult:
    """What a writer made: counts, the files it wrote (relative to the folder), what it had to drop."""

    documents: int = 0
    spans: int = 0
    files: list[str] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)  # what could not be expressed -> how many
    report: Report = field(default_factory=Report)

    def drop(self, what: str, n: int = 1) -> None:
        """Count something the format cannot hold (said by the command, never silent)."""
        self.dropped[what] = self.dropped.get(what, 0) + n


@dataclass(frozen=True)
class ExportFormat:
    """One output format: its CLI name, what it keeps and cannot hold, and its writer."""

    name: str
    summary: str
    keeps: str
    cannot_hold: str
    write: Callable[[ExportInput, Path], ExportResult]
    needs: tuple[str, ...] = ()  # importable modules it needs; a missing one is an EnvironmentProblem naming the extra


#: CLI name -> "module:attribute" of its :class:`ExportFormat`, imported only when used.
_REGISTRY: dict[str, str] = {
    "spacy": "spacy_docbin:FORMAT",
    "conll": "conll:FORMAT",
    "webanno": "web_annotation:FORMAT",
    "semeval2020": "semeval:FORMAT_2020",
    "semeval2023": "semeval:FORMAT_2023",
    "brat": "brat:FORMAT",
}

FORMAT_NAMES: tuple[str, ...] = tuple(sorted(_REGISTRY))


class _Formats(Mapping[str, ExportFormat]):
    """The registry: ``FORMATS[name]`` imports the format's module on first use (spaCy is slow to import)."""

    def __init__(self) -> None:
        self._loaded: dict[str, ExportFormat] = {}

    def __getitem__(self, name: str) -> ExportFormat:
        if name not in self._loaded:
            module, _, attr = _REGISTRY[name].partition(":")
            self._loaded[name] = getattr(import_module(f"{__package__}.{module}"), attr)
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in _REGISTRY  # without importing the module

    def __iter__(self) -> Iterator[str]:
        return iter(FORMAT_NAMES)

    def __len__(self) -> int:
        return len(FORMAT_NAMES)


#: CLI name -> :class:`ExportFormat`, for every format.
FORMATS: Mapping[str, ExportFormat] = _Formats()
