"""``chipwar build``: the corpus as a Hugging Face dataset folder, with no loading script.

Layout of the folder::

    README.md                      dataset card; YAML `configs:` and `dataset_info` generated
    figures/<name>.svg             the card's figures (chipwar.plots), shown on the Hub page; no config reads them
    data/<config>/<split>-<hash>.parquet   zstd Parquet, named by content hash
    schema/, DATASHEET.md, LICENSE, VERSION   carried along (rehydration rebuilds from them)

Each data file is named by the SHA-256 of its bytes and that exact name is written in
``data_files``: a rebuild with changed data changes the config entry, which is what the
``datasets`` cache key sees (a fixed glob would serve stale rows from the cache).

Configs: ``documents`` (one row per document, metadata + text + every layer, lossless),
``entities`` / ``claims`` / ``bias_markers`` (one row per span, with its sentence) and
``ner`` (sentence tokens with BIO tags; spans that do not align with token boundaries or
that overlap another entity are reported, never dropped silently).

Builds are deterministic: the same sources give byte-identical files.

The folder is written whole beside ``--out`` and swapped in at the end
(:class:`chipwar.outputs.FolderBuild`): ``--out`` is replaced only when it is new, empty or an
earlier build holding only the files it made (listed in its ``.chipwar-build.json``, which
``chipwar publish`` uploads exactly), never inside the corpus checkout; a killed build leaves
the previous one whole, and its staging folder is removed by the next build.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features

from .. import __version__
from ..corpus import Corpus
from ..errors import DataError, UsageError
from ..ids import check_set_name
from ..outputs import FolderBuild, check_out
from ..parallel import chunked, ordered_map
from ..plots import LabelCounts
from ..schema import load_schemas
from ..sentences import SentenceIndex, split_sentences
from ..writer import replace_file
from .configs import SPAN_CONFIGS, BuildResult, Layouts, Unaligned, document_row, layouts, ner_rows, span_rows, strip_texts

if TYPE_CHECKING:
    from ..plots import Figure

CARRIED = ("DATASHEET.md", "LICENSE", "VERSION")
#: The command named in a build's marker: only a build replaces a build (:func:`chipwar.outputs.check_out`).
MADE_BY = "chipwar build"
BATCH_DOCS = 500  # documents per chunk of work and per Parquet row group


class BuildError(DataError):
    """The dataset cannot be built from these sources."""


def _with_version(schema: pa.Schema, version: str) -> pa.Schema:
    """The dataset version in a Parquet file's own metadata, so a file on its own says what it is."""
    return schema.with_metadata({**(schema.metadata or {}), b"chipwar.dataset_version": version.encode()})


class _Writers:
    """One Parquet writer per (config, split), fed one table per chunk of documents, in document
    order (a row group each); files named by content hash."""

    def __init__(self, root: Path, schemas: dict[str, pa.Schema]) -> None:
        self.root, self.schemas = root, schemas
        self.writers: dict[tuple[str, str], pq.ParquetWriter] = {}
        self.rows: dict[str, dict[str, int]] = {}

    def add(self, config: str, split: str, table: pa.Table) -> None:
        key = (config, split)
        writer = self.writers.get(key)
        if writer is None:
            path = self.root / "data" / config / f"{split}.parquet.tmp"
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = self.writers[key] = pq.ParquetWriter(path, self.schemas[config], compression="zstd",
                                                          write_statistics=False, store_schema=True)
        writer.write_table(table, row_group_size=max(table.num_rows, 1))
        counts = self.rows.setdefault(config, {})
        counts[split] = counts.get(split, 0) + table.num_rows

    def close(self) -> dict[str, dict[str, str]]:
        """Close every file and name it by its hash; return config -> split -> relative path."""
        names: dict[str, dict[str, str]] = {}
        for (config, split), writer in sorted(self.writers.items()):
            writer.close()
            tmp = self.root / "data" / config / f"{split}.parquet.tmp"
            digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:16]
            rel = f"data/{config}/{split}-{digest}.parquet"
            tmp.rename(self.root / rel)
            names.setdefault(config, {})[split] = rel
        return names


def build_info(version: str, set_name: str, with_text: bool) -> dict[str, Any]:
    """What a build's ``.chipwar-build.json`` says besides its files (no paths or times: builds stay byte-identical)."""
    return {"made_by": MADE_BY, "chipwar_version": __version__, "dataset_version": version,
            "annotation_set": set_name, "with_text": with_text}


def build_dataset(corpus: Corpus, out: Path, *, set_name: str = "gold", with_text: bool = True,
                  version: str, progress: Callable[[int, int], None] | None = None,
                  figures: Sequence[Figure] | None = None) -> BuildResult:
    """Write the dataset folder ``out`` from a corpus that validates clean.

    ``out`` is checked first (:func:`check_out`); the folder is written beside it and swapped
    in at the end, so a failed or killed build leaves the previous one untouched. The card's
    figures are drawn from the corpus unless given (a rehydration carries the ones its build drew).
    """
    from ..validation.run import validate_corpus
    from .card import card_figures, write_card
    from .citation import write_dataset_citation
    from .croissant import write_croissant
    from .statement import facts_read_once

    check_set_name(set_name)
    if set_name not in corpus.set_names():
        raise UsageError(f"annotations/{set_name}/: no such annotation set", hint=f"pass --set with one of: "
                         f"{', '.join(corpus.set_names()) or 'none (annotate first)'}")
    check_out(out, corpus.root, MADE_BY)
    report = validate_corpus(corpus)
    if not report.ok:
        first = report.errors[0]
        raise BuildError(f"the corpus has {len(report.errors)} validation problem(s), e.g. {first.location()} "
                         f"[{first.code}] {first.message}; run `chipwar validate` and fix them first")
    schemas = load_schemas(corpus.schema_dir)
    lay = layouts(schemas)
    features = {"documents": Features(lay.documents.feature), **{k: Features(f.feature) for k, f in lay.spans.items()},
                "ner": lay.ner}
    arrow = {config: _with_version(f.arrow_schema, version) for config, f in features.items()}
    folder = FolderBuild(out, build_info(version, set_name, with_text))
    result = BuildResult(out=folder.out, with_text=with_text)
    with folder as staging:
        writers = _Writers(staging, arrow)
        doc_ids = corpus.doc_ids()
        job = _BuildJob(corpus, set_name, with_text, lay, arrow, {t: i for i, t in enumerate(lay.ner_tags)})
        done = 0
        counts = LabelCounts()  # what the card's figures draw, counted while every file is read anyway
        for tables, unaligned, n_docs, part in ordered_map(_build_chunk, job, chunked(doc_ids, BATCH_DOCS)):
            for (config, split), table in tables.items():
                writers.add(config, split, table)
            result.unaligned.extend(unaligned)
            counts.merge(part)
            done += n_docs
            if progress:
                progress(done, len(doc_ids))
        files = writers.close()
        result.rows = {c: dict(sorted(v.items())) for c, v in writers.rows.items() if c in files}
        _carry(corpus, staging)
        drawn = card_figures(corpus, schemas, set_name, counts) if figures is None else figures
        with facts_read_once():
            write_card(staging, corpus, schemas, lay, files, result, version=version, set_name=set_name, figures=drawn)
            write_croissant(staging, corpus, files, version=version, set_name=set_name, with_text=with_text)
            write_dataset_citation(staging, corpus, version, set_name)
    result.files, result.replaced, result.recovered = folder.files, folder.replaced, folder.recovered
    return result


@dataclass(frozen=True)
class _BuildJob:
    """What every chunk of a build needs (shared with the workers by fork, not pickled)."""

    corpus: Corpus
    set_name: str
    with_text: bool
    lay: Layouts
    arrow: dict[str, pa.Schema]
    tag_index: dict[str, int]


def _build_chunk(job: _BuildJob, doc_ids: list[str]) -> tuple[dict[tuple[str, str], pa.Table], list[Unaligned], int, LabelCounts]:
    """The rows of some documents as one Arrow table per (config, split), in document order, and their label counts."""
    corpus, lay = job.corpus, job.lay
    rows: dict[tuple[str, str], list[dict]] = {}
    unaligned: list[Unaligned] = []
    counts = LabelCounts()
    for doc_id in doc_ids:
        meta, text = corpus.read_metadata(doc_id), corpus.read_text(doc_id)
        ann_path = corpus.annotation_path(job.set_name, doc_id)
        annotations = corpus.read_annotations(job.set_name, doc_id) if ann_path.is_file() else None
        if annotations is not None:
            counts.add(meta, annotations)
        split = meta["split"]
        kept_text = text if job.with_text else None
        row = document_row(meta, kept_text, job.set_name, annotations)
        if not job.with_text:
            row = _strip_span_text(row)
        rows.setdefault(("documents", split), []).append(lay.documents.encode(row))
        sentences = split_sentences(text)
        index = SentenceIndex(sentences) if job.with_text else None
        for layer in SPAN_CONFIGS:
            spans = (annotations or {}).get(layer, [])
            enc = lay.spans[layer].encode
            rows.setdefault((layer, split), []).extend(enc(r) for r in span_rows(layer, doc_id, spans, kept_text, index))
        if job.with_text:
            rows.setdefault(("ner", split), []).extend(
                ner_rows(doc_id, text, sentences, (annotations or {}).get("entities", []), job.tag_index, unaligned))
    tables = {key: pa.Table.from_pylist(batch, schema=job.arrow[key[0]]) for key, batch in rows.items() if batch}
    return tables, unaligned, len(doc_ids), counts


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


