"""``chipwar build``: the corpus as a Hugging Face dataset folder, with no loading script.

Layout of the folder::

    README.md                      dataset card; YAML `configs:` and `dataset_info` generated
    figures/<name>.svg             the card's figures (chipwar.plots), shown on the Hub page; no config reads them
    data/<config>/<split>-<i>-of-<n>-<hash>.parquet   zstd Parquet shards (chipwar.hf.shards)
    chipwar-shards.json           what each shard was made from (chipwar.hf.manifest)
    schema/, DATASHEET.md, LICENSE, VERSION   carried along (rehydration rebuilds from them)

Every file is named in ``data_files``: a rebuild with changed data changes the config entry,
which is what the ``datasets`` cache key sees (a fixed glob would serve stale rows from the cache).

Configs: ``documents`` (one row per document, metadata + text + every layer, lossless),
``entities`` / ``claims`` / ``bias_markers`` (one row per span, with its sentence) and
``ner`` (sentence tokens with BIO tags; spans that do not align with token boundaries or
that overlap another entity are reported, never dropped silently).

One pass over the sources: each chunk of documents is validated (the map of
:mod:`chipwar.validation.run`) and, when clean, turned into rows from what validation parsed;
the parent merges the findings in order and makes the corpus-wide checks, so a corpus with a
problem builds nothing. A chunk whose documents are those of the earlier build in ``--out``
(:mod:`.manifest`) is not turned into rows again: its row groups are taken from that build.
Builds are deterministic: the same sources give byte-identical files, on any engine, with or
without an earlier build to reuse.

The folder is written whole beside ``--out`` and swapped in at the end
(:class:`chipwar.outputs.FolderBuild`): ``--out`` is replaced only when it is new, empty or an
earlier build holding only the files it made (listed in its ``.chipwar-build.json``, which
``chipwar publish`` uploads exactly), never inside the corpus checkout; a killed build leaves
the previous one whole, and its staging folder is removed by the next build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features

from .. import __version__
from ..corpus import Corpus
from ..engines import Engine
from ..engines.local import Chunks, LocalEngine, bounds
from ..errors import DataError, UsageError
from ..ids import check_set_name
from ..outputs import FolderBuild, check_out
from ..plots import LabelCounts
from ..schema import load_schemas
from ..sentences import SentenceIndex, split_sentences
from ..validation.chunk import Job, Part
from ..validation.run import check_chunk, plan_run
from ..validation.scope import scope_of
from ..writer import replace_file
from .configs import (
    CONFIGS,
    SPAN_CONFIGS,
    BuildResult,
    Layouts,
    NerColumns,
    Unaligned,
    document_row,
    layouts,
    ner_document,
    span_rows,
    strip_texts,
    with_label_names,
)
from .manifest import MANIFEST, ChunkEntry, Manifest, RangeEntry, build_key, chunk_digest, read_manifest
from .shards import DOCS_PER_SHARD, ROW_GROUP_DOCS, Shard, ShardWriters, name_shards, sort_rows
from .statement import CorpusFacts, facts_read_once

if TYPE_CHECKING:
    from ..plots import Figure

CARRIED = ("DATASHEET.md", "LICENSE", "VERSION")
#: The command named in a build's marker: only a build replaces a build (:func:`chipwar.outputs.check_out`).
MADE_BY = "chipwar build"


class BuildError(DataError):
    """The dataset cannot be built from these sources."""


def _with_version(schema: pa.Schema, version: str) -> pa.Schema:
    """The dataset version in a Parquet file's own metadata, so a file on its own says what it is."""
    return schema.with_metadata({**(schema.metadata or {}), b"chipwar.dataset_version": version.encode()})


def build_info(version: str, set_name: str, with_text: bool) -> dict[str, Any]:
    """What a build's ``.chipwar-build.json`` says besides its files (no paths or times: builds stay byte-identical)."""
    return {"made_by": MADE_BY, "chipwar_version": __version__, "dataset_version": version,
            "annotation_set": set_name, "with_text": with_text}


def ranges_of(n_docs: int, docs_per_shard: int) -> list[list[tuple[int, int]]]:
    """The documents (by position in doc-id order) as shard ranges, each cut into chunks of
    :data:`ROW_GROUP_DOCS` (a row group each): (start, end) bounds."""
    return [bounds(b - a, min(ROW_GROUP_DOCS, docs_per_shard), a) for a, b in bounds(n_docs, docs_per_shard)]


def build_dataset(corpus: Corpus, out: Path, *, set_name: str = "gold", with_text: bool = True,
                  version: str, progress: Callable[[int, int], None] | None = None,
                  figures: Sequence[Figure] | None = None, engine: Engine | None = None,
                  docs_per_shard: int = DOCS_PER_SHARD, reuse: bool = True) -> BuildResult:
    """Validate the corpus and write the dataset folder ``out`` from it, in one pass.

    ``out`` is checked first (:func:`check_out`); the folder is written beside it and swapped
    in at the end, so a failed or killed build leaves the previous one untouched. The card's
    figures are drawn from the corpus unless given (a rehydration carries the ones its build drew).
    ``reuse``: take unchanged chunks from the earlier build in ``out`` (:mod:`.manifest`).
    """
    from .card import card_figures, datasheet_agreement_sets, write_card
    from .citation import write_dataset_citation
    from .croissant import write_croissant

    check_set_name(set_name)
    if set_name not in corpus.set_names():
        raise UsageError(f"annotations/{set_name}/: no such annotation set", hint=f"pass --set with one of: "
                         f"{', '.join(corpus.set_names()) or 'none (annotate first)'}")
    if docs_per_shard < 1:
        raise UsageError(f"--docs-per-shard {docs_per_shard}: must be at least 1", hint=f"the default is {DOCS_PER_SHARD}")
    check_out(out, corpus.root, MADE_BY)
    schemas = load_schemas(corpus.schema_dir)
    lay = layouts(schemas)
    features = {"documents": Features(lay.documents.feature), **{k: Features(f.feature) for k, f in lay.spans.items()},
                "ner": lay.ner}
    arrow = {config: _with_version(f.arrow_schema, version) for config, f in features.items()}
    key = build_key(schemas, version=version, set_name=set_name, with_text=with_text, docs_per_shard=docs_per_shard)
    previous = read_manifest(out, key) if reuse else None
    ranges: list[list[tuple[int, int]]] = []

    def split(doc_ids: Sequence[str]) -> Chunks[str]:
        ranges.extend(ranges_of(len(doc_ids), docs_per_shard))
        return Chunks(doc_ids, [b for r in ranges for b in r])

    compared = tuple(datasheet_agreement_sets(corpus))  # the card's agreement figure, counted in the same pass
    run = plan_run(corpus, scope_of(corpus, None), keep=True, chunks=split, facts=(("agreement", *compared),) if compared else None)
    job = BuildJob(run.job, set_name, with_text, version, schemas_of=arrow, old=previous.chunk_digests() if previous else {})
    folder = FolderBuild(out, build_info(version, set_name, with_text))
    result = BuildResult(out=folder.out, with_text=with_text)
    engine = engine or LocalEngine()
    with folder as staging:
        manifest = Manifest(key)
        shards: list[Shard] = []
        counts = LabelCounts()  # what the card's figures draw, counted while every file is read anyway
        facts = CorpusFacts()  # what the card, Data Statement, Croissant and citation say, likewise
        results = engine.map(build_chunk, job, run.chunks)
        old_ranges = {r.chunks[0].first: r for r in previous.ranges if r.chunks} if previous else {}
        old_chunks = {c.first: (r, c) for r in previous.ranges for c in r.chunks} if previous else {}
        for k, chunk_bounds in enumerate(ranges):
            writer = _RangeWriter(ShardWriters(staging, arrow, k), out, old_chunks)
            for a, b in chunk_bounds:  # each chunk's rows are written as they come: one chunk in memory at a time
                chunk = list(run.doc_ids[a:b])
                built = next(results)
                run.merge(built.part, len(chunk))
                counts.merge(built.counts)
                facts.merge(built.facts)
                if progress:
                    progress(run.done, len(run.doc_ids))
                if run.report.ok:  # else the build fails below, with every problem counted; nothing more is written
                    writer.add(chunk, built)
            if run.report.ok:
                entry = writer.close(old_ranges.get(run.doc_ids[chunk_bounds[0][0]]))
                result.unaligned += [u for c in entry.chunks for u in c.unaligned]
                shards += entry.written
                manifest.ranges.append(entry)
        validation = run.finish(corpus)
        if not validation.report.ok:
            first = validation.report.errors[0]
            raise BuildError(f"the corpus has {len(validation.report.errors)} validation problem(s), e.g. {first.location()} "
                             f"[{first.code}] {first.message}; run `chipwar validate` and fix them first")
        files = name_shards(staging, shards)
        for entry in manifest.ranges:
            entry.record(entry.written)
        replace_file(staging / MANIFEST, manifest.to_bytes())
        result.rows = _rows(shards)
        result.shards = {s.rel: {"rows": s.rows, "row_groups": s.row_groups, "bytes": (staging / s.rel).stat().st_size,
                                 "largest_row_group": s.largest_row_group, "sha256": s.sha256} for s in shards}
        result.docs_per_shard, result.row_group_docs = docs_per_shard, min(ROW_GROUP_DOCS, docs_per_shard)
        result.example_doc = run.doc_ids[0] if run.doc_ids else None
        _carry(corpus, staging)
        agreement = validation.facts.agreements[compared].result([], []) if compared and validation.facts else None
        drawn = card_figures(corpus, schemas, set_name, counts, agreement) if figures is None else figures
        with facts_read_once(corpus, facts):
            write_card(staging, corpus, schemas, lay, files, result, version=version, set_name=set_name, figures=drawn)
            write_croissant(staging, corpus, files, version=version, set_name=set_name, with_text=with_text)
            write_dataset_citation(staging, corpus, version, set_name)
    result.files, result.replaced, result.recovered = folder.files, folder.replaced, folder.recovered
    result.reused = sum(1 for e in manifest.ranges for c in e.chunks if c.first in job.old and job.old[c.first] == c.digest)
    result.chunks = sum(len(e.chunks) for e in manifest.ranges)
    return result


_ORDER = {config: i for i, config in enumerate(CONFIGS)}


def _rows(shards: list[Shard]) -> dict[str, dict[str, int]]:
    rows: dict[str, dict[str, int]] = {}
    for s in shards:
        rows.setdefault(s.config, {})[s.split] = rows.get(s.config, {}).get(s.split, 0) + s.rows
    return {c: dict(sorted(v.items())) for c, v in sorted(rows.items(), key=lambda kv: _ORDER[kv[0]])}


class _RangeWriter:
    """Writes one range's shards chunk by chunk. Chunks unchanged since the earlier build are held
    back (they carry no rows) while every chunk so far is unchanged: when the whole range is, its
    shards are taken as they are; otherwise their row groups are read back from the earlier build."""

    def __init__(self, writers: ShardWriters, out: Path, old_chunks: dict[str, tuple[RangeEntry, ChunkEntry]]) -> None:
        self.writers, self.out, self.old_chunks = writers, out, old_chunks
        self.entry = RangeEntry()
        self.held: list[tuple[list[str], BuiltChunk]] = []

    def add(self, chunk: list[str], built: BuiltChunk) -> None:
        if built.tables is None and len(self.held) == len(self.entry.chunks):
            self.held.append((chunk, built))
            self.entry.chunks.append(ChunkEntry(chunk[0], len(chunk), built.digest or ""))
            return
        self._flush()
        self._write(chunk, built)

    def _flush(self) -> None:
        held, self.held = self.held, []
        del self.entry.chunks[len(self.entry.chunks) - len(held):]
        for chunk, built in held:
            self._write(chunk, built)

    def _write(self, chunk: list[str], built: BuiltChunk) -> None:
        if built.tables is None:  # unchanged: its row groups are read back from the earlier build
            old_range, reused = self.old_chunks[chunk[0]]
            entry = ChunkEntry(chunk[0], len(chunk), reused.digest, unaligned=reused.unaligned)
            tables = _old_tables(self.out, old_range, reused)
        else:
            entry = ChunkEntry(chunk[0], len(chunk), built.digest or "", unaligned=built.unaligned)
            tables = built.tables
        for (config, split_name), table in sorted(tables.items()):
            entry.row_groups[f"{config}/{split_name}"] = self.writers.add(config, split_name, table)
        self.entry.chunks.append(entry)

    def close(self, old: RangeEntry | None) -> RangeEntry:
        """Finish the range: ``old`` is the earlier build's range that starts at the same document."""
        if self.held and old is not None and [c.digest for c in old.chunks] == [c.digest for c in self.entry.chunks]:
            self.entry.chunks = list(old.chunks)  # the whole range unchanged: its shards are taken as they are
            for name, shard in sorted(old.shards.items()):
                config, _, split_name = name.partition("/")
                self.writers.copy(config, split_name, self.out / shard["file"], shard["rows"], shard["row_groups"])
        else:
            self._flush()
        self.entry.written = self.writers.close()
        return self.entry


def _old_tables(out: Path, old: RangeEntry, chunk: ChunkEntry) -> dict[tuple[str, str], pa.Table]:
    """A reused chunk's tables, read back from its row groups in the earlier build's shards; each must
    start at the chunk's first document (a manifest edited by hand is refused, never believed)."""
    tables = {}
    for name, index in chunk.row_groups.items():
        config, _, split_name = name.partition("/")
        path = out / old.shards[name]["file"]
        with pq.ParquetFile(path) as pf:
            table = pf.read_row_group(index) if 0 <= index < pf.num_row_groups else None
        if table is None or table.num_rows == 0 or table.column("doc_id")[0].as_py() < chunk.first:
            raise BuildError(f"{out / MANIFEST}: row group {index} of {path.name} is not the chunk from {chunk.first} it names; "
                             "the earlier build was changed by hand", hint="build with --full, which reuses nothing")
        tables[(config, split_name)] = table
    return tables


@dataclass
class BuildJob:
    """What every chunk of a build needs: the validation job, the build's choices, and the digests
    of the earlier build's chunks (``old``: first document -> digest). Pickled once per worker on a
    cluster; the layouts (which hold functions) are derived there from the schemas."""

    check: Job
    set_name: str
    with_text: bool
    version: str
    schemas_of: dict[str, pa.Schema]
    old: dict[str, str] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_lay", None)
        return state

    @property
    def lay(self) -> Layouts:
        if "_lay" not in self.__dict__:
            self.__dict__["_lay"] = layouts(self.check.schemas)
        return self.__dict__["_lay"]


@dataclass
class BuiltChunk:
    """A chunk's findings and, when it is clean and changed, its rows: one table per (config, split)."""

    part: Part
    digest: str | None = None
    tables: dict[tuple[str, str], pa.Table] | None = None
    unaligned: list[Unaligned] = field(default_factory=list)
    counts: LabelCounts = field(default_factory=LabelCounts)
    facts: CorpusFacts = field(default_factory=CorpusFacts)


def build_chunk(job: BuildJob, doc_ids: list[str]) -> BuiltChunk:
    """Validate some documents and, when clean and not the same as in the earlier build, turn them
    into rows, in document order (the build's map, on any engine)."""
    part = check_chunk(job.check, doc_ids)
    kept, part.kept = part.kept, {}
    built = BuiltChunk(part)
    if not part.report.ok:
        return built
    sources = [(doc_id, kept[doc_id].meta, kept[doc_id].text, kept[doc_id].sets.get(f"annotations/{job.set_name}"))
               for doc_id in doc_ids]
    built.digest = chunk_digest(sources)
    for doc_id, meta, _, ann in sources:
        if ann is not None:
            built.counts.add(meta, ann)
        built.facts.add_document(doc_id, meta)
        for set_rel, data in kept[doc_id].sets.items():
            built.facts.add_annotations(set_rel.removeprefix("annotations/"), data)
    if job.old.get(doc_ids[0]) == built.digest:
        return built
    lay = job.lay
    rows: dict[tuple[str, str], list[dict]] = {}
    ner: dict[str, NerColumns] = {}
    for doc_id, meta, text, ann in sources:
        split = meta["split"]
        kept_text = text if job.with_text else None
        row = with_label_names(document_row(meta, kept_text, job.set_name, ann), lay.named["documents"])
        if not job.with_text:
            row = _strip_span_text(row)
        rows.setdefault(("documents", split), []).append(lay.documents.encode(row))
        sentences = split_sentences(text)
        index = SentenceIndex(sentences) if job.with_text else None
        for layer in SPAN_CONFIGS:
            spans = sort_rows((ann or {}).get(layer, []))
            enc, named = lay.spans[layer].encode, lay.named[layer]
            rows.setdefault((layer, split), []).extend(enc(with_label_names(r, named))
                                                       for r in span_rows(layer, doc_id, spans, kept_text, index))
        if job.with_text:
            ner.setdefault(split, NerColumns(lay.ner_tags)).add(
                ner_document(doc_id, text, sentences, (ann or {}).get("entities", []), lay.ner_tags, built.unaligned))
    built.tables = {key: pa.Table.from_pylist(batch, schema=job.schemas_of[key[0]]) for key, batch in rows.items() if batch}
    built.tables.update({("ner", split): columns.table(job.schemas_of["ner"]) for split, columns in ner.items() if len(columns)})
    return built


def _strip_span_text(row: dict) -> dict:
    """The annotations-only variant: no article text, not even inside spans or their attribution cues."""
    row = dict(row)
    for layer in ("zones", *SPAN_CONFIGS):
        row[layer] = [strip_texts(span) for span in row.get(layer) or []]
    return row


def _carry(corpus: Corpus, staging: Path) -> None:
    """``schema/`` and the carried files, as ordinary files (never a source's odd mode, link or hidden leftover)."""
    for path in sorted(corpus.schema_dir.rglob("*")):
        rel = path.relative_to(corpus.schema_dir)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            replace_file(staging / "schema" / rel, path.read_bytes())
    for name in CARRIED:
        if (corpus.root / name).is_file():
            replace_file(staging / name, (corpus.root / name).read_bytes())


