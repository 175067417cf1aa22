"""A validation run: the folders listed, the documents checked chunk by chunk over workers, the findings merged."""

from __future__ import annotations

import heapq
import os
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Callable, Sequence

from ..corpus import Corpus
from ..engines import Engine
from ..engines.local import LocalEngine, chunked
from ..generated_facts import BlockFacts
from ..ids import DOC_ID
from ..report import Problem, Report, printable
from ..schema import load_schemas
from ..writer import leftovers
from .annotations import check_annotation
from .canonical import Records, collect_records, record_conflicts
from .chunk import BROKEN, Job, Part, load
from .documents import check_document
from .listing import Folder, Names, folder_refusal, list_folder, list_sets, refused
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
    facts: BlockFacts | None = None


def validate_corpus(corpus: Corpus, only: Path | None = None, progress: Progress | None = None, *, fast: bool = True) -> Report:
    """Check the corpus (or, with ``only``, the documents and sets a path points at).

    ``fast=False`` describes every span the slow way even when the fast path would find the
    file clean (for tests that compare both). Raises :class:`chipwar.schema.SchemaError` when
    ``schema/`` itself is unusable and :class:`UsageError` for a path it cannot check.
    """
    return validate_scope(corpus, scope_of(corpus, only), progress, fast=fast).report


def validate_scope(corpus: Corpus, scope: Scope, progress: Progress | None = None, *, fast: bool = True,
                   engine: Engine | None = None, facts: tuple[tuple[str, ...], ...] | None = None) -> Validation:
    """Check what ``scope`` names, on ``engine`` (default: this machine's cores); see :func:`validate_corpus`.
    ``facts``: the data specs of generated blocks to count in the same pass (:mod:`chipwar.generated_facts`)."""
    run = plan_run(corpus, scope, fast=fast, facts=facts)
    engine = engine or LocalEngine()
    for chunk, part in zip(run.chunks, engine.map(check_chunk, run.job, run.chunks), strict=True):
        run.merge(part, len(chunk))
        if progress:
            progress(run.done, len(run.doc_ids))
    return run.finish(corpus)


@dataclass
class Run:
    """A validation run planned (folders listed, documents chunked), then reduced part by part:
    the map is :func:`check_chunk` on each chunk, on any engine; :meth:`merge` takes the parts
    in chunk order and :meth:`finish` makes the corpus-wide checks."""

    job: Job
    doc_ids: Sequence[str]
    chunks: Sequence[list[str]]
    scope: Scope
    listed: tuple[Folder, ...]
    report: Report = field(default_factory=Report)
    records: dict[str, Records] = field(default_factory=dict)
    checked: list[str] = field(default_factory=list)
    facts: BlockFacts | None = None
    done: int = 0

    def merge(self, part: Part, n_docs: int) -> None:
        """Add one chunk's findings (call in chunk order)."""
        self.report.extend(part.report.problems)
        for key, n in part.report.counts.items():
            self.report.count(key, n)
        for set_rel, by_id in part.records.items():
            merged = self.records.setdefault(set_rel, {})
            for cid, recs in by_id.items():
                seen = merged.setdefault(cid, {})
                for record, where in recs.items():
                    seen.setdefault(record, where)
        self.checked += part.checked
        if part.facts is not None:
            if self.facts is None:
                self.facts = part.facts
            else:
                self.facts.merge(part.facts)
        self.done += n_docs

    def finish(self, corpus: Corpus) -> Validation:
        """The corpus-wide checks (canonical entities consistent across documents, leftovers of killed writes)."""
        self.report.extend(record_conflicts(self.records))
        self.report.extend(_leftover_problems(corpus, self.listed))
        facts = self.facts if self.facts is not None or self.job.facts is None else BlockFacts(self.job.facts)
        return Validation(self.report, self.scope, self.checked, facts)


def plan_run(corpus: Corpus, scope: Scope, *, fast: bool = True, keep: bool = False,
             facts: tuple[tuple[str, ...], ...] | None = None,
             chunks: Callable[[Sequence[str]], Sequence[list[str]]] | None = None) -> Run:
    """List the folders and chunk the documents of ``scope`` (``chunks``: how, default :data:`CHUNK_DOCS`
    at a time); ``keep`` and ``facts``: see :class:`Job`."""
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
    job = Job(schemas, docs, tuple(sets), fast, list_checked=not scope.whole, keep=keep, facts=facts)
    split = chunks or (lambda ids: chunked(ids, CHUNK_DOCS))
    return Run(job, doc_ids, split(doc_ids), scope, (docs, *sets), report)


def _doc_ids(scope: Scope, docs: Folder, sets: list[Folder]) -> Sequence[str]:
    """The documents a run goes through: its own, or those of corpus/ and of the sets in scope (sorted, held compactly)."""
    if scope.docs is not None:
        return list(scope.docs)
    listed = [docs.stems] if scope.corpus_docs else []
    listed += [folder.stems for folder in sets]
    if listed and all(names == listed[0] for names in listed[1:]) and all(valid(i, DOC_ID) for i in listed[0]):
        return listed[0]  # the usual corpus: every folder lists the same documents
    merged = (doc_id for doc_id, _ in groupby(heapq.merge(*listed)))
    return Names((i for i in merged if valid(i, DOC_ID)), ordered=True).same_as(listed)


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


def check_chunk(job: Job, doc_ids: list[str]) -> Part:
    """Check some documents and their annotation files: the map of every run (in a worker, or in-process)."""
    part = Part()
    report = part.report
    facts = part.facts = None if job.facts is None else BlockFacts(job.facts)
    for doc_id in doc_ids:
        seen = len(report.problems)
        _check_one(job, doc_id, part)
        if facts is not None and doc_id in part.kept:
            if part.kept[doc_id].text is not None and not any(p.severity == "error" for p in report.problems[seen:]):
                facts.add(doc_id, part.kept[doc_id], {f.rel for f in job.sets if doc_id + ".json" in f.files})
            if not job.keep:
                del part.kept[doc_id]
    return part


def _check_one(job: Job, doc_id: str, part: Part) -> None:
    """Check one document and its annotation files."""
    report, docs = part.report, job.docs
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
        if doc_id in part.kept:
            part.kept[doc_id].sets[folder.rel] = data
        if isinstance(data, dict):
            collect_records(data, rel, part.records.setdefault(folder.rel, {}), part.firsts.setdefault(folder.rel, set()),
                            schema_ok and job.fast)
