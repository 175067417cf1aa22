"""``chipwar build``: the corpus as a Hugging Face dataset folder, with no loading script.

Layout of the folder::

    README.md                      dataset card; YAML `configs:` and `dataset_info` generated
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
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import ClassLabel, Features, List, Value

from ..corpus import Corpus
from ..errors import DataError
from ..layers import LAYER_LABEL_SET
from ..parallel import chunked, ordered_map
from ..schema import Schemas, load_schemas
from ..sentences import SentenceIndex, split_sentences, token_offsets
from .features import Field, SchemaWalker, struct_of

SPAN_CONFIGS = ("entities", "claims", "bias_markers")
CONFIGS = ("documents", *SPAN_CONFIGS, "ner")
CARRIED = ("DATASHEET.md", "LICENSE", "VERSION")
BATCH_DOCS = 500  # documents per chunk of work and per Parquet row group


class BuildError(DataError):
    """The dataset cannot be built from these sources."""


@dataclass(frozen=True)
class Unaligned:
    """An entity span left out of the ``ner`` config, and why."""

    doc_id: str
    annotation_id: str
    text: str | None
    reason: str


@dataclass
class BuildResult:
    """What a build wrote."""

    out: Path
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    unaligned: list[Unaligned] = field(default_factory=list)
    with_text: bool = True


@dataclass(frozen=True)
class Layouts:
    """Row layout (feature + codecs) of every config, derived from the schema."""

    documents: Field
    spans: dict[str, Field]
    ner: Features
    ner_tags: list[str]


def layouts(schemas: Schemas) -> Layouts:
    """Derive every config's features from ``schema/``."""
    walker = SchemaWalker(schemas)
    doc, ann = schemas.document, schemas.annotations
    fields: dict[str, Field] = {k: walker.field(v, doc) for k, v in doc["properties"].items()}
    fields["text"] = Field(Value("string"), None, None)
    fields["annotation_set"] = Field(Value("string"), None, None)
    fields.update({k: walker.field(v, ann) for k, v in ann["properties"].items() if k != "doc_id"})
    spans = {}
    for layer in SPAN_CONFIGS:
        item = ann["$defs"][{"entities": "Entity", "claims": "Claim", "bias_markers": "BiasMarker"}[layer]]
        span_fields = {"doc_id": Field(Value("string"), None, None)}
        span_fields.update({k: walker.field(v, ann) for k, v in item["properties"].items()})
        span_fields.update({k: Field(Value(t), None, None) for k, t in
                            (("sentence", "string"), ("sentence_start", "int32"), ("sentence_end", "int32"))})
        spans[layer] = struct_of(span_fields)
    tags = ["O"] + [f"{p}-{name}" for name in schemas.label_names(LAYER_LABEL_SET["entities"]) for p in ("B", "I")]
    ner = Features({
        "id": Value("string"), "doc_id": Value("string"), "sentence_index": Value("int32"),
        "tokens": List(Value("string")), "token_starts": List(Value("int32")), "token_ends": List(Value("int32")),
        "ner_tags": List(ClassLabel(names=tags)),
    })
    return Layouts(struct_of(fields), spans, ner, tags)


def document_row(meta: dict, text: str | None, set_name: str, annotations: dict | None) -> dict[str, Any]:
    """One ``documents`` row (before encoding) from a document's files."""
    row: dict[str, Any] = dict(meta)
    row["text"] = text
    row["annotation_set"] = set_name if annotations is not None else None
    for key, value in (annotations or {}).items():
        if key != "doc_id":
            row[key] = value
    return row


def from_document_row(decoded: dict[str, Any], schemas: Schemas) -> tuple[dict, str | None, str | None, dict | None]:
    """(metadata, text, set name, annotation file) back from a decoded ``documents`` row."""
    meta = {k: decoded[k] for k in schemas.document["properties"]}
    set_name = decoded["annotation_set"]
    annotations = None
    if set_name is not None:
        annotations = {k: (decoded["doc_id"] if k == "doc_id" else decoded[k]) for k in schemas.annotations["properties"]}
    return meta, decoded["text"], set_name, annotations


def _span_rows(layer: str, doc_id: str, spans: list[dict], text: str | None, index: SentenceIndex | None) -> Iterator[dict]:
    for span in spans:
        row = {"doc_id": doc_id, **span}
        if text is not None and index is not None and index.sentences:
            s, e = index.covering(span["start"], span["end"])
            row.update(sentence=text[s:e], sentence_start=s, sentence_end=e)
        else:
            row.update(sentence=None, sentence_start=None, sentence_end=None)
            row["text"] = None
        yield row


def _ner_rows(doc_id: str, text: str, sentences: list, entities: list[dict], tag_index: dict[str, int],
              unaligned: list[Unaligned]) -> Iterator[dict]:
    """BIO-tagged sentences; an entity that cannot be tagged is recorded in ``unaligned``."""
    placed: list[tuple[int, int, dict]] = []
    for ent in sorted(entities, key=lambda e: (e["start"], -e["end"])):
        if placed and ent["start"] < placed[-1][1]:
            unaligned.append(Unaligned(doc_id, ent["id"], ent["text"], f"overlaps {placed[-1][2]['id']}; BIO cannot nest"))
            continue
        placed.append((ent["start"], ent["end"], ent))
    by_sentence: dict[int, list[dict]] = {}
    index = SentenceIndex(sentences)
    number = {sent.start: i for i, sent in enumerate(sentences)}
    for start, end, ent in placed:
        s, e = index.covering(start, end)
        first = number[s]
        if sentences[first].end != e:
            unaligned.append(Unaligned(doc_id, ent["id"], ent["text"], "crosses a sentence boundary"))
            continue
        by_sentence.setdefault(first, []).append(ent)
    all_starts, all_ends = token_offsets(text)
    for i, sent in enumerate(sentences):
        lo, hi = bisect_left(all_starts, sent.start), bisect_left(all_starts, sent.end)
        token_starts, token_ends = all_starts[lo:hi], all_ends[lo:hi]
        tags = [0] * (hi - lo)
        ents = by_sentence.get(i, ())
        starts = dict(zip(token_starts, range(hi - lo), strict=False)) if ents else {}
        ends = dict(zip(token_ends, range(hi - lo), strict=False)) if ents else {}
        for ent in ents:
            a, b = starts.get(ent["start"]), ends.get(ent["end"])
            if a is None or b is None:
                unaligned.append(Unaligned(doc_id, ent["id"], ent["text"], "does not start and end on token boundaries"))
                continue
            tags[a] = tag_index["B-" + ent["label"]]
            for k in range(a + 1, b + 1):
                tags[k] = tag_index["I-" + ent["label"]]
        yield {"id": f"{doc_id}:s{i}", "doc_id": doc_id, "sentence_index": i,
               "tokens": list(map(text.__getitem__, map(slice, token_starts, token_ends))),
               "token_starts": token_starts, "token_ends": token_ends, "ner_tags": tags}


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


def build_dataset(corpus: Corpus, out: Path, *, set_name: str = "gold", with_text: bool = True,
                  version: str, progress: Callable[[int, int], None] | None = None) -> BuildResult:
    """Write the dataset folder ``out`` from a corpus that validates clean.

    The folder is written next to ``out`` and swapped in at the end, so a failed build
    leaves the previous one untouched.
    """
    from ..validate import validate_corpus
    from .card import write_card

    report = validate_corpus(corpus)
    if not report.ok:
        first = report.problems[0]
        raise BuildError(f"the corpus has {len(report.problems)} validation problem(s), e.g. {first.location()} "
                         f"[{first.code}] {first.message}; run `chipwar validate` and fix them first")
    if set_name not in corpus.set_names():
        raise BuildError(f"annotations/{set_name}/: no such annotation set (sets: {', '.join(corpus.set_names()) or 'none'}); "
                         "pass --set with one of them")
    schemas = load_schemas(corpus.schema_dir)
    lay = layouts(schemas)
    features = {"documents": Features(lay.documents.feature), **{k: Features(f.feature) for k, f in lay.spans.items()},
                "ner": lay.ner}
    arrow = {config: _with_version(f.arrow_schema, version) for config, f in features.items()}
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        result = BuildResult(out=out, with_text=with_text)
        writers = _Writers(staging, arrow)
        doc_ids = corpus.doc_ids()
        job = _BuildJob(corpus, set_name, with_text, lay, arrow, {t: i for i, t in enumerate(lay.ner_tags)})
        done = 0
        for tables, unaligned, n_docs in ordered_map(_build_chunk, job, chunked(doc_ids, BATCH_DOCS)):
            for (config, split), table in tables.items():
                writers.add(config, split, table)
            result.unaligned.extend(unaligned)
            done += n_docs
            if progress:
                progress(done, len(doc_ids))
        files = writers.close()
        result.rows = {c: dict(sorted(v.items())) for c, v in writers.rows.items() if c in files}
        _carry(corpus, staging)
        write_card(staging, corpus, schemas, lay, files, result, version=version, set_name=set_name)
        result.files = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
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


def _build_chunk(job: _BuildJob, doc_ids: list[str]) -> tuple[dict[tuple[str, str], pa.Table], list[Unaligned], int]:
    """The rows of some documents as one Arrow table per (config, split), in document order."""
    corpus, lay = job.corpus, job.lay
    rows: dict[tuple[str, str], list[dict]] = {}
    unaligned: list[Unaligned] = []
    for doc_id in doc_ids:
        meta, text = corpus.read_metadata(doc_id), corpus.read_text(doc_id)
        ann_path = corpus.annotation_path(job.set_name, doc_id)
        annotations = corpus.read_annotations(job.set_name, doc_id) if ann_path.is_file() else None
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
            rows.setdefault((layer, split), []).extend(enc(r) for r in _span_rows(layer, doc_id, spans, kept_text, index))
        if job.with_text:
            rows.setdefault(("ner", split), []).extend(
                _ner_rows(doc_id, text, sentences, (annotations or {}).get("entities", []), job.tag_index, unaligned))
    tables = {key: pa.Table.from_pylist(batch, schema=job.arrow[key[0]]) for key, batch in rows.items() if batch}
    return tables, unaligned, len(doc_ids)


def _strip_span_text(row: dict) -> dict:
    """The annotations-only variant: no article text, not even inside spans."""
    row = dict(row)
    for layer in ("zones", *SPAN_CONFIGS):
        row[layer] = [{**span, "text": None} for span in row.get(layer) or []]
    return row


def _carry(corpus: Corpus, staging: Path) -> None:
    shutil.copytree(corpus.schema_dir, staging / "schema")
    for name in CARRIED:
        if (corpus.root / name).is_file():
            shutil.copy2(corpus.root / name, staging / name)


def _swap(staging: Path, out: Path) -> None:
    """Replace ``out`` by ``staging`` (rename; the old folder is removed only after)."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    staging.rename(out)
    if old is not None:
        shutil.rmtree(old)


def read_documents(dataset_dir: Path) -> Iterator[tuple[dict, str | None, str | None, dict | None]]:
    """Decode the ``documents`` config of a built folder back into source-shaped JSON."""
    schemas = load_schemas(dataset_dir / "schema")
    lay = layouts(schemas)
    for path in sorted((dataset_dir / "data" / "documents").glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_DOCS):
            for row in batch.to_pylist():
                yield from_document_row(lay.documents.decode(row), schemas)


class RehydrateError(DataError):
    """The user's copies do not give back the texts the annotations were made against."""


def rehydrate_dataset(dataset_dir: Path, texts_dir: Path, out: Path, *, version: str) -> BuildResult:
    """Rebuild a full dataset from an annotations-only build and the user's own copies of the texts.

    A copy is found by the document id (``<doc_id>.txt``), by the received file's name, or
    by its SHA-256 among all files in ``texts_dir``; the intake normalisations (BOM, CRLF)
    are applied as at intake. Every text's SHA-256 must equal the recorded one; any
    mismatch or missing text stops the run before anything is written.
    """
    from ..files import dumps_json, sha256_text
    from ..intake import normalise
    from ..writer import write_files

    by_sha: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for path in sorted(p for p in texts_dir.rglob("*") if p.is_file()):
        try:
            text, _ = normalise(path.read_bytes(), str(path))
        except ValueError:
            continue
        by_sha.setdefault(sha256_text(text), text)
        by_name.setdefault(path.name, str(path))
    docs = list(read_documents(dataset_dir))
    problems = []
    for meta, _, _, _ in docs:
        sha, doc_id = meta["intake"]["text_sha256"], meta["doc_id"]
        if sha in by_sha:
            continue
        named = by_name.get(f"{doc_id}.txt") or by_name.get(meta["intake"]["received_file"])
        if named:
            problems.append(f"{named}: text of {doc_id} differs from the annotated one (SHA-256 {sha[:12]}… expected); "
                            "use the exact copy the corpus was built from (same edition, not re-saved or cleaned)")
        else:
            problems.append(f"{doc_id}: no copy in {texts_dir} (looked for {doc_id}.txt, {meta['intake']['received_file']} "
                            f"and any file with SHA-256 {sha[:12]}…); download it from {meta['url'] or 'its source'}")
    if problems:
        raise RehydrateError(f"{len(problems)} document(s) cannot be rehydrated, nothing written:\n  " + "\n  ".join(problems))
    with tempfile.TemporaryDirectory(prefix="chipwar-rehydrate-") as tmp:
        root = Path(tmp)
        shutil.copytree(dataset_dir / "schema", root / "schema")
        (root / "corpus").mkdir()
        for name in CARRIED:
            if (dataset_dir / name).is_file():
                shutil.copy2(dataset_dir / name, root / name)
        set_name = "gold"
        files: dict[Path, bytes] = {}
        for meta, _, ann_set, annotations in docs:
            text = by_sha[meta["intake"]["text_sha256"]]
            files[root / "corpus" / f"{meta['doc_id']}.txt"] = text.encode("utf-8")
            files[root / "corpus" / f"{meta['doc_id']}.json"] = dumps_json(meta)
            if annotations is not None:
                set_name = ann_set
                for layer in ("zones", *SPAN_CONFIGS):
                    for span in annotations[layer]:
                        span["text"] = text[span["start"]:span["end"]]
                files[root / "annotations" / ann_set / f"{meta['doc_id']}.json"] = dumps_json(annotations)
        write_files(root, files)
        return build_dataset(Corpus(root), out, set_name=set_name, with_text=True, version=version)
