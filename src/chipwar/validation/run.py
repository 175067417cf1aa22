"""A validation run: the folders listed, the documents checked chunk by chunk over workers, the findings merged."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..corpus import Corpus
from ..ids import DOC_ID
from ..parallel import chunked, ordered_map
from ..report import Problem, Report, printable
from ..schema import load_schemas
from ..writer import leftovers
from .annotations import check_annotation
from .canonical import Records, collect_records, record_conflicts
from .chunk import BROKEN, Job, Part, load
from .documents import check_document
from .listing import Folder, folder_refusal, list_folder, list_sets, refused
from .scope import Scope, scope_of, valid

Progress = Callable[[int, int], None]

#: Documents per unit of work (see :mod:`chipwar.parallel`); each worker holds one document at
#: a time, so memory stays flat.
CHUNK_DOCS = 250


@dataclass(frozen=True)
class Validation:
    """What a run found, what it covered, and (for a run on part of the corpus) every file it read."""

    report: Report
    scope: Scope
    checked: list[str]


def validate_corpus(corpus: Corpus, only: Path | None = None, progress: Progress | None = None, *, fast: bool = True) -> Report:
    """Check the corpus (or, with ``only``, the documents and sets a path points at).

    ``fast=False`` describes every span the slow way even when the fast path would find the
    file clean (for tests that compare both). Raises :class:`chipwar.schema.SchemaError` when
    ``schema/`` itself is unusable and :class:`UsageError` for a path it cannot check.
    """
    return validate_scope(corpus, scope_of(corpus, only), progress, fast=fast).report


def validate_scope(corpus: Corpus, scope: Scope, progress: Progress | None = None, *, fast: bool = True) -> Validation:
    """Check what ``scope`` names; see :func:`validate_corpus`."""
    schemas = load_schemas(corpus.schema_dir)
    root = str(corpus.root)
    report = Report()
    why = folder_refusal(root, str(corpus.corpus_dir))
    docs = Folder(str(corpus.corpus_dir), "corpus")
    if why is not None:
        report.add(refused("corpus", None, why))
    else:
        docs = list_folder(root, docs.path, "corpus", (".txt", ".json"))
    sets, set_problems = list_sets(corpus, scope, root) if scope.sets != () else ([], [])
    report.extend(set_problems)
    doc_ids = _doc_ids(scope, docs, sets)
    wanted = None if scope.docs is None else set(scope.docs)
    for folder in (docs, *sets):
        report.extend(p for name, p in sorted(folder.refused.items())
                      if wanted is None or name == "" or name.rpartition(".")[0] in wanted)
    job = Job(schemas, docs, tuple(sets), fast, list_checked=not scope.whole)
    records: dict[str, Records] = {}
    checked: list[str] = []
    done = 0
    chunks = chunked(doc_ids, CHUNK_DOCS)
    for chunk, part in zip(chunks, ordered_map(_check_chunk, job, chunks), strict=True):
        report.extend(part.report.problems)
        for key, n in part.report.counts.items():
            report.count(key, n)
        for set_rel, by_id in part.records.items():
            merged = records.setdefault(set_rel, {})
            for cid, recs in by_id.items():
                seen = merged.setdefault(cid, {})
                for record, where in recs.items():
                    seen.setdefault(record, where)
        checked += part.checked
        done += len(chunk)
        if progress:
            progress(done, len(doc_ids))
    report.extend(record_conflicts(records))
    report.extend(_leftover_problems(corpus, (docs, *sets)))
    return Validation(report, scope, checked)


def _doc_ids(scope: Scope, docs: Folder, sets: list[Folder]) -> list[str]:
    """The documents a run goes through: its own, or those of corpus/ and of the sets in scope."""
    if scope.docs is not None:
        return list(scope.docs)
    ids = set(docs.stems) if scope.corpus_docs else set()
    for folder in sets:
        ids |= folder.stems
    return sorted(i for i in ids if valid(i, DOC_ID))


def _leftover_problems(corpus: Corpus, listed: tuple[Folder, ...]) -> list[Problem]:
    """A warning for each journal or staging file an interrupted write left (the listed folders' were seen when listing them)."""
    out = []
    found = leftovers(corpus.root, [f for f in (corpus.root, corpus.schema_dir, corpus.annotations_dir) if not os.path.islink(f)])
    found += sorted(Path(folder.path, name) for folder in listed for name in folder.staging)
    for path in found:
        out.append(Problem("interrupted_write", "an interrupted chipwar write left this behind", printable(corpus.rel(path)),
                           hint="run `chipwar generate`, which finishes or removes it (so does the next chipwar command that writes "
                                "a file); remove a staging file by hand only when no chipwar is running", severity="warning"))
    return out


def _check_chunk(job: Job, doc_ids: list[str]) -> Part:
    """Check some documents and their annotation files (in a worker, or in-process)."""
    part = Part()
    report, docs = part.report, job.docs
    for doc_id in doc_ids:
        has_document = doc_id in docs.stems
        text = sha = None
        if has_document:
            text, sha = check_document(job, doc_id, part)
        name = doc_id + ".json"
        for folder in job.sets:
            follow = folder.files.get(name)
            if follow is None:
                continue
            path, rel = folder.file(name)
            report.count("annotation_files")
            if not has_document:
                report.add(Problem("missing_document", f"annotation file has no document {doc_id!r} in corpus/", rel, doc_id,
                                   expected=f"corpus/{doc_id}.txt and corpus/{doc_id}.json", found="neither",
                                   hint="add the document with `chipwar intake`, or move the annotation file to the right document id"))
            data = load(path, follow, rel, doc_id, part, job.list_checked)
            if data is BROKEN:
                continue
            schema_ok = check_annotation(job.schemas, data, rel, doc_id, text, sha, report, job.fast)
            if isinstance(data, dict):
                collect_records(data, rel, part.records.setdefault(folder.rel, {}), part.firsts.setdefault(folder.rel, set()),
                                schema_ok and job.fast)
    return part
