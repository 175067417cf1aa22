"""An export run: check the arguments and the output folder, then let one format write it whole.

Before anything is read or written the set name, the set, the format's optional modules and
``--out`` are checked (``--out`` as ``chipwar build`` checks it: never in or around the corpus
checkout, and new, empty or an earlier chipwar output). Documents are then read one at a time;
a document whose text, metadata or annotation file does not pass every check ``chipwar
validate`` makes is left out whole and listed in the report (exit 1), never exported half.
The folder is staged beside ``--out`` and swapped in at the end (:class:`chipwar.outputs.FolderBuild`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from .. import __version__
from ..corpus import Corpus
from ..errors import UsageError, require
from ..ids import check_set_name
from ..outputs import FolderBuild, check_out
from ..report import Report
from ..schema import load_schemas
from .formats import FORMAT_NAMES, FORMATS, ExportDocument, ExportFormat, ExportInput, ExportResult

#: The extra that installs each optional module a format needs.
EXTRA_OF = {"spacy": "export", "datasets": "hf", "pyarrow": "hf"}


@dataclass
class ExportRun:
    """What ``chipwar export`` made: the format, the folder, the writer's result and what the swap did."""

    format: ExportFormat
    out: Path
    result: ExportResult
    replaced: bool = False
    recovered: list[str] = field(default_factory=list)


#: The command named in an export's marker: an export replaces only an earlier export.
MADE_BY = "chipwar export"


def check_needs(fmt: ExportFormat) -> None:
    """Refuse, naming the extra to install, when a module the format needs is missing."""
    for module in fmt.needs:
        require(f"the {fmt.name} export", [module], EXTRA_OF.get(module, "export"))


def sound_documents(corpus: Corpus, set_name: str, report: Report) -> Iterator[ExportDocument]:
    """The set's documents that pass validation, one at a time, in doc-id order; each one left
    out is added to ``report`` with why."""
    from ..validation.sound import load_annotations, load_document, readable_files

    schemas = load_schemas(corpus.schema_dir)
    doc_ids, problems = readable_files(corpus, corpus.annotations_dir / set_name, ".json")
    report.extend(problems)
    for doc_id in doc_ids:
        doc = load_document(corpus, schemas, doc_id)
        data, problem = load_annotations(corpus, schemas, corpus.annotation_path(set_name, doc_id), doc)
        if problem is not None:
            report.add(problem)
            report.count("documents_left_out")
            continue
        yield ExportDocument(doc_id, doc.meta, doc.text, data)


def run_export(corpus: Corpus, format_name: str, out: Path, *, set_name: str = "gold") -> ExportRun:
    """Write the annotation set ``set_name`` in format ``format_name`` into the folder ``out``."""
    if format_name not in FORMATS:
        raise UsageError(f"no export format {format_name!r}", hint=f"use one of: {', '.join(FORMAT_NAMES)}")
    fmt = FORMATS[format_name]
    check_set_name(set_name)
    if set_name not in corpus.set_names():
        raise UsageError(f"annotations/{set_name}/: no such annotation set",
                         hint=f"pass --set with one of: {', '.join(corpus.set_names()) or 'none (annotate first)'}")
    check_needs(fmt)
    check_out(out, corpus.root, MADE_BY)
    schemas = load_schemas(corpus.schema_dir)
    left_out = Report()
    passes = 0

    def documents() -> Iterator[ExportDocument]:
        nonlocal passes
        passes += 1
        return sound_documents(corpus, set_name, left_out if passes == 1 else Report())  # list each file left out once

    info = {"made_by": MADE_BY, "format": fmt.name, "chipwar_version": __version__,
            "annotation_set": set_name, "schema_version": schemas.version}
    folder = FolderBuild(out, info)
    with folder as staging:
        result = fmt.write(ExportInput(corpus, schemas, set_name, documents), staging)
    result.files = folder.files
    result.report.extend(left_out.problems)
    for key, n in left_out.counts.items():
        result.report.count(key, n)
    unannotated = len(set(corpus.doc_ids()) - set(corpus.annotated_doc_ids(set_name)))
    if unannotated:
        result.report.count(f"documents with no file in annotations/{set_name}/ (not exported)", unannotated)
    return ExportRun(fmt, folder.out, result, folder.replaced, folder.recovered)
