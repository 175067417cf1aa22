"""``chipwar rehydrate``: a full dataset from an annotations-only build and a reader's own copies of the texts.

The annotations-only (``--no-text``) build keeps each document's metadata, including the
SHA-256 of its text. The reader's folder of copies is searched file by file (sub-folders
too; links are not followed): each file goes through the text form rules
(:mod:`chipwar.textform`, as at intake) and is matched to a document by that SHA-256. Every
file that is not a text of the dataset (another article, a binary, an empty or non-UTF-8
file, a link) is skipped and listed. A document with no matching copy stops the run before
anything is written. The documents are then rebuilt exactly as ``chipwar build`` builds
them, so the result equals the build with texts byte for byte (the card's figures are carried
from the annotations-only build: its agreement figure was drawn from sets it does not hold).
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from ..corpus import Corpus
from ..errors import DataError, EnvironmentProblem, UsageError
from ..files import dumps_json, sha256_text
from ..outputs import BUILD_MARKER, check_out, read_build_marker
from ..plots import read_figures
from ..report import short
from ..schema import load_schemas
from ..textform import TextFormError, normalise
from ..writer import write_files
from .build import CARRIED, MADE_BY, build_dataset
from .card import FIGURES_DIR, card_version
from .citation import CITATION_FILE
from .configs import SPAN_CONFIGS, BuildResult, from_document_row, layouts, restore_texts
from .manifest import shard_size
from .shards import ROW_GROUP_DOCS

#: A copy larger than this many bytes per code point of the longest text cannot be one of the
#: texts (UTF-8 takes at most 4, CRLF and decomposed forms a few more): it is skipped unread.
BYTES_PER_CODEPOINT = 32


class RehydrateError(DataError):
    """The user's copies do not give back the texts the annotations were made against."""


@dataclass(frozen=True)
class Skipped:
    """A file in the folder of copies that is not a text of the dataset, and why."""

    file: str
    reason: str


@dataclass
class RehydrateResult(BuildResult):
    """What a rehydration wrote, and the files of the copies folder it did not use."""

    skipped: list[Skipped] = field(default_factory=list)


Document = tuple[dict, str | None, str | None, dict | None]


def read_documents(dataset_dir: Path) -> Iterator[Document]:
    """Decode the ``documents`` config of a built folder back into source-shaped JSON:
    (metadata, text, annotation set name, annotation file) per document."""
    schemas = load_schemas(dataset_dir / "schema")
    lay = layouts(schemas)
    marker = read_build_marker(dataset_dir)
    listed = sorted(dataset_dir / f for f in marker["files"] if f.startswith("data/documents/")) if marker else None
    for path in listed if listed is not None else sorted((dataset_dir / "data" / "documents").glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=ROW_GROUP_DOCS):
            for row in batch.to_pylist():
                yield from_document_row(lay.documents.decode(row), schemas)


def _bare_build(dataset_dir: Path) -> tuple[dict, str, list[Document]]:
    """The marker, version and documents of an annotations-only build; a clear error for anything else."""
    if not dataset_dir.is_dir():
        raise EnvironmentProblem(f"DATASET {dataset_dir}: no such folder", hint="pass the folder `chipwar build --no-text` wrote")
    marker = read_build_marker(dataset_dir)
    if marker is None:
        raise UsageError(f"DATASET {dataset_dir}: not a chipwar build (no valid {BUILD_MARKER})",
                         hint="pass the folder `chipwar build --no-text` wrote, e.g. dist/chipwar-annotations")
    version = card_version(dataset_dir)
    if marker.get("with_text") is not False:
        raise UsageError(f"DATASET {dataset_dir}: this build already holds the texts; nothing to rehydrate",
                         hint="rehydrate the annotations-only build (`chipwar build --no-text`)")
    missing = [f for f in marker["files"] if not (dataset_dir / f).is_file()]
    if missing:
        raise UsageError(f"DATASET {dataset_dir}: incomplete build, {len(missing)} of its files missing (e.g. {missing[0]})",
                         hint="build it again with `chipwar build --no-text`, or download it again")
    try:
        docs = list(read_documents(dataset_dir))
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
        raise UsageError(f"DATASET {dataset_dir}: its documents cannot be read ({short(str(exc), 200)})",
                         hint="build it again with `chipwar build --no-text`, or download it again") from None
    return marker, version, docs


@dataclass(frozen=True)
class _Copy:
    file: str  # relative to the copies folder
    sha256: str
    text: str


def _scan(texts_dir: Path, limit: int) -> tuple[list[_Copy], list[Skipped]]:
    """Every file under ``texts_dir`` read under the text form rules: the texts, and the files
    that are not texts, with why."""
    copies: list[_Copy] = []
    skipped: list[Skipped] = []

    def unreadable(exc: OSError) -> None:
        skipped.append(Skipped(os.path.relpath(exc.filename, texts_dir), f"folder cannot be read ({exc.strerror})"))

    for dirpath, dirnames, filenames in os.walk(texts_dir, onerror=unreadable):
        dirnames.sort()
        for name in [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            skipped.append(Skipped(os.path.relpath(os.path.join(dirpath, name), texts_dir), "a link to a folder (not followed)"))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, texts_dir)
            text, why = _read_copy(path, limit)
            if text is None:
                skipped.append(Skipped(rel, why))
            else:
                copies.append(_Copy(rel, sha256_text(text), text))
    return copies, skipped


def _read_copy(path: str, limit: int) -> tuple[str | None, str]:
    """One copy's text, or ``None`` and why it is not one."""
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            return None, "a link (not followed)"
        if not stat.S_ISREG(info.st_mode):
            return None, "not a regular file"
        if info.st_size > limit:
            return None, f"larger ({info.st_size:,} bytes) than any text of the dataset can be"
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})"
    try:
        return normalise(raw, path)[0], ""
    except TextFormError as exc:
        return None, exc.reason


def _why_missing(meta: dict, skipped: list[Skipped], texts_dir: Path) -> str:
    """Why no copy of a document was found: a file named for it that is not its text, or none."""
    doc_id, sha = meta["doc_id"], meta["intake"]["text_sha256"]
    names = {f"{doc_id}.txt", meta["intake"]["received_file"]}
    named = next((s for s in skipped if Path(s.file).name in names), None)
    if named is not None and named.reason.startswith("not the text"):
        return (f"{named.file}: text of {doc_id} differs from the annotated one (SHA-256 {sha[:12]}… expected); "
                "use the exact copy the corpus was built from (same edition, not re-saved or cleaned)")
    if named is not None:
        return f"{named.file}: cannot be the text of {doc_id}: {named.reason}"
    return (f"{doc_id}: no copy in {texts_dir} (looked for {' and '.join(sorted(names))} and any file with "
            f"SHA-256 {sha[:12]}…); download it from {meta['url'] or 'its source'}")


def rehydrate_dataset(dataset_dir: Path, texts_dir: Path, out: Path) -> RehydrateResult:
    """Rebuild the full dataset ``out`` from the annotations-only build ``dataset_dir`` and the
    copies in ``texts_dir``. Every text's SHA-256 must equal the recorded one; a missing or
    changed copy stops the run before anything is written."""
    marker, version, docs = _bare_build(dataset_dir)
    if not texts_dir.is_dir():
        raise EnvironmentProblem(f"--texts {texts_dir}: no such folder", hint="pass the folder holding your copies of the articles")
    target = check_out(out, None, MADE_BY)
    if target == dataset_dir.resolve():
        raise UsageError(f"--out {out}: is DATASET itself; refused", hint="write the full build to another folder, e.g. dist/chipwar")
    longest = max((meta["intake"]["length_codepoints"] for meta, *_ in docs), default=0)
    copies, skipped = _scan(texts_dir, BYTES_PER_CODEPOINT * longest + 1024)
    wanted = {meta["intake"]["text_sha256"] for meta, *_ in docs}
    by_sha = {c.sha256: c.text for c in copies if c.sha256 in wanted}
    skipped += [Skipped(c.file, "not the text of any document of the dataset") for c in copies if c.sha256 not in wanted]
    skipped.sort(key=lambda s: s.file)
    problems = [_why_missing(meta, skipped, texts_dir) for meta, *_ in docs if meta["intake"]["text_sha256"] not in by_sha]
    if problems:
        raise RehydrateError(f"{len(problems)} document(s) cannot be rehydrated, nothing written:\n  " + "\n  ".join(problems))
    set_name = marker.get("annotation_set") or "gold"
    with tempfile.TemporaryDirectory(prefix="chipwar-rehydrate-") as tmp:
        root = Path(tmp)
        files: dict[Path, bytes] = {}
        for name in marker["files"]:  # schema/ and the carried files, as the build made them
            if name.startswith("schema/") or name in CARRIED or name == CITATION_FILE:  # the citation holds the release date
                files[root / name] = (dataset_dir / name).read_bytes()
        (root / "annotations" / set_name).mkdir(parents=True)
        (root / "corpus").mkdir()
        for meta, _, ann_set, annotations in docs:
            text = by_sha[meta["intake"]["text_sha256"]]
            files[root / "corpus" / f"{meta['doc_id']}.txt"] = text.encode("utf-8")
            files[root / "corpus" / f"{meta['doc_id']}.json"] = dumps_json(meta)
            if annotations is not None:
                for layer in ("zones", *SPAN_CONFIGS):
                    annotations[layer] = [restore_texts(span, text) for span in annotations[layer]]
                files[root / "annotations" / str(ann_set) / f"{meta['doc_id']}.json"] = dumps_json(annotations)
        write_files(root, files)
        built = build_dataset(Corpus(root), target, set_name=set_name, with_text=True, version=version,
                              figures=read_figures(dataset_dir / FIGURES_DIR),  # drawn from sets the bare build does not carry
                              docs_per_shard=shard_size(dataset_dir))
    return RehydrateResult(**vars(built), skipped=skipped)
