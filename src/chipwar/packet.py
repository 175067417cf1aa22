"""Annotation packets: exactly what one annotator may see for one document, and its way back in.

A blind pass is only blind if the annotator gets nothing but the guidelines, the schema and
the text. :func:`prepare_packet` writes that folder — ``GUIDELINES.md``, both schema files,
``<doc_id>.txt`` and an empty ``<doc_id>.json`` whose ``annotator.given`` records the SHA-256
of every file given and whose ``annotator.prepared`` is the moment the program wrote it.
It refuses when the guidelines or the label definitions quote the document
(:mod:`chipwar.leakage`): such a packet would hand out an answer key.

:func:`check_packet` validates the filled-in file against the packet's own text and schema
(the annotator needs nothing else), and confirms the given files were not changed.
:func:`submit_packet` checks it again, stamps ``annotator.submitted`` with the time of receipt
and writes it as ``annotations/<set>/<doc_id>.json`` — never over an existing file. Times are
written by this program at the moment it records the event; per-span times stay as the
annotator left them (``null`` unless a program recorded them).
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .corpus import Corpus
from .errors import DataError, EnvironmentProblem, UsageError
from .files import dumps_json, loads_json, sha256_bytes, sha256_text
from .ids import check_doc_id, check_set_name
from .layers import LAYERS
from .leakage import find_leaks, schema_descriptions
from .outputs import locked_folder
from .report import Problem, Report, pointer, short
from .schema import ANNOTATIONS_SCHEMA, DOCUMENT_SCHEMA, SchemaError, load_schemas
from .validation.annotations import check_annotation_data
from .writer import file_mode, fsync_path, write_files

GUIDELINES = "GUIDELINES.md"

#: ``annotator.given`` key -> the packet file it hashes (``{doc}`` is the document id).
GIVEN_FILES = {
    "guidelines_sha256": GUIDELINES,
    "annotations_schema_sha256": ANNOTATIONS_SCHEMA,
    "document_schema_sha256": DOCUMENT_SCHEMA,
    "text_sha256": "{doc}.txt",
}


def now() -> str:
    """The current time, UTC, to the second (RFC 3339): the only way a time enters an annotation file."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class Packet:
    """A prepared packet: where it is and what it holds."""

    folder: Path
    doc_id: str
    annotator: str
    files: list[str]
    given: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "doc_id": self.doc_id, "annotator": self.annotator, "files": self.files, "given": self.given}


def _sources(corpus: Corpus, doc_id: str) -> dict[str, bytes]:
    """The packet's files as the corpus has them now."""
    paths = {GUIDELINES: corpus.annotations_dir / GUIDELINES, ANNOTATIONS_SCHEMA: corpus.schema_dir / ANNOTATIONS_SCHEMA,
             DOCUMENT_SCHEMA: corpus.schema_dir / DOCUMENT_SCHEMA, f"{doc_id}.txt": corpus.text_path(doc_id)}
    out = {}
    for name, path in paths.items():
        try:
            out[name] = path.read_bytes()
        except FileNotFoundError:
            hint = "the document id must be one of corpus/*.txt" if name.endswith(".txt") else "restore it from git"
            raise EnvironmentProblem(f"{corpus.rel(path)}: missing; a packet needs it", hint=hint) from None
        except OSError as exc:
            raise EnvironmentProblem(f"{corpus.rel(path)}: cannot be read ({exc.strerror})", hint="check its permissions") from None
    return out


def leaks_for(sources: dict[str, bytes], doc_id: str) -> list[Problem]:
    """Passages of the guidelines or label definitions copied from the document: each one a problem."""
    text = sources[f"{doc_id}.txt"].decode("utf-8")
    guidance = {GUIDELINES: sources[GUIDELINES].decode("utf-8"),
                ANNOTATIONS_SCHEMA: "\n".join(schema_descriptions(loads_json(sources[ANNOTATIONS_SCHEMA]))),
                DOCUMENT_SCHEMA: "\n".join(schema_descriptions(loads_json(sources[DOCUMENT_SCHEMA])))}
    problems = []
    for name, content in guidance.items():
        for leak in find_leaks(content, {doc_id: text}):
            where = f"line {leak.line}" if name == GUIDELINES else "a description"
            problems.append(Problem("guidance_quotes_text", f"{name} ({where}) quotes the document: {short(leak.passage)}",
                                    name, doc_id, expected="constructed examples only", found=short(leak.passage),
                                    hint="rewrite the example with invented names and wording; an annotator must not see the text's "
                                         "answers"))
    return problems


def empty_annotation_file(schema_version: str, doc_id: str, text_sha: str, annotator: str, kind: str, description: str,
                          model: dict[str, Any] | None, given: dict[str, str]) -> dict[str, Any]:
    """The file an annotator fills in: header recorded, every layer empty."""
    return {
        "schema_version": schema_version, "doc_id": doc_id, "text_sha256": text_sha,
        "annotator": {"name": annotator, "kind": kind, "description": description, "model": model, "given": given,
                      "prepared": now(), "submitted": None},
        "document_labels": None, "canonical_entities": [], **{layer: [] for layer in LAYERS}, "decisions": [],
    }


def prepare_packet(corpus: Corpus, doc_id: str, annotator: str, out: Path, *, kind: str = "model",
                   model_name: str | None = None, model_version: str | None = None, description: str | None = None) -> Packet:
    """Write the packet folder ``out`` (new or empty) for ``annotator`` and ``doc_id``; all files or none."""
    check_doc_id(doc_id)
    check_set_name(annotator)
    if kind == "model" and not model_name:
        raise UsageError("--kind model needs --model-name (the model's name as its provider gives it)",
                         hint="e.g. --model-name claude-opus --model-version 4; --model-version may be left out when unknown")
    if kind != "model" and (model_name or model_version):
        raise UsageError(f"--model-name/--model-version are for --kind model, not {kind}", hint="leave them out")
    out = out.resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out}: exists and is not an empty folder; refused (nothing of it is replaced)",
                         hint="pass a new folder, e.g. packets/<annotator>/<doc_id>")
    sources = _sources(corpus, doc_id)
    leaks = leaks_for(sources, doc_id)
    if leaks:
        raise DataError(f"{len(leaks)} passage(s) of the guidelines or schema quote {doc_id}; no packet written: "
                        + "; ".join(p.message for p in leaks[:3]), hint=leaks[0].hint)
    schema_version = loads_json(sources[ANNOTATIONS_SCHEMA]).get("x-schema-version")
    given = {key: sha256_bytes(sources[name.format(doc=doc_id)]) for key, name in GIVEN_FILES.items()}
    model = {"name": model_name, "version": model_version} if kind == "model" else None
    desc = description or (f"Blind pass by {model_name}" + (f" {model_version}" if model_version else " (version not reported)")
                           + f", given only the packet for {doc_id} (guidelines, schema, text)." if model
                           else f"Blind pass by {annotator}, given only the packet for {doc_id} (guidelines, schema, text).")
    data = empty_annotation_file(schema_version, doc_id, given["text_sha256"], annotator, kind, desc, model, given)
    files = {**sources, f"{doc_id}.json": dumps_json(data)}
    _write_folder(out, files)
    return Packet(out, doc_id, annotator, sorted(files), given)


#: The suffix of a packet's staging folder beside its --out.
STAGING_SUFFIX = ".partial"


def _write_folder(out: Path, files: dict[str, bytes]) -> None:
    """Stage every file in a sibling folder, then rename it into place: a killed run leaves no half packet, and its
    staging folder is removed by the next prepare into the same place (under the parent folder's lock, so never a live one)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentProblem(f"--out {out}: cannot create ({exc.strerror})", hint="check the path and permissions") from None
    with locked_folder(out.parent):
        for stale in out.parent.glob(f".{glob.escape(out.name)}.*{STAGING_SUFFIX}"):
            shutil.rmtree(stale, ignore_errors=True)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):  # again, under the lock: another prepare may have won
            raise UsageError(f"--out {out}: exists and is not an empty folder; refused (nothing of it is replaced)",
                             hint="pass a new folder, e.g. packets/<annotator>/<doc_id>")
        try:
            staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=STAGING_SUFFIX, dir=out.parent))
        except OSError as exc:
            raise EnvironmentProblem(f"--out {out}: cannot create ({exc.strerror})", hint="check the path and permissions") from None
        try:
            os.chmod(staging, 0o777 & ~(0o666 & ~file_mode()))  # a folder's usual mode (0755 under umask 022)
            for name, data in files.items():
                (staging / name).write_bytes(data)
            fsync_path(staging)
            if out.exists():
                out.rmdir()
            os.rename(staging, out)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise EnvironmentProblem(f"--out {out}: cannot write ({exc.strerror}); nothing written", hint="check the path and free space") from None


@dataclass
class PacketCheck:
    """What :func:`check_packet` found, and what it read."""

    folder: Path
    doc_id: str
    data: Any
    report: Report = field(default_factory=Report)


def _packet_doc_id(folder: Path) -> str:
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder", hint="pass the folder `chipwar packet prepare` wrote")
    texts = sorted(p.stem for p in folder.glob("*.txt"))
    if len(texts) != 1 or not (folder / f"{texts[0]}.json").is_file():
        raise UsageError(f"{folder}: not an annotation packet (expected one <doc_id>.txt and its <doc_id>.json, found "
                         f"{len(texts)} text file(s))", hint="pass the folder `chipwar packet prepare` wrote")
    return texts[0]


def check_packet(folder: Path) -> PacketCheck:
    """Validate a packet's annotation file against the packet's text and schema, and its given files against their hashes."""
    doc_id = _packet_doc_id(folder)
    rel = f"{doc_id}.json"
    missing = [name.format(doc=doc_id) for name in GIVEN_FILES.values() if not (folder / name.format(doc=doc_id)).is_file()]
    if missing:
        raise DataError(f"{folder}: the packet's {', '.join(missing)} missing; it cannot be checked",
                        hint="never remove or edit a packet's given files; restore them from the packet as given, or prepare a new one")
    try:
        schemas = load_schemas(folder)
    except SchemaError:
        raise DataError(f"{folder}: the packet's schema files are not valid JSON Schema; it cannot be checked",
                        hint="never edit a packet's schema files; restore them from the packet as given, or prepare a new one") from None
    raw_text = (folder / f"{doc_id}.txt").read_bytes()
    text = raw_text.decode("utf-8")
    report = Report()
    try:
        data = loads_json((folder / rel).read_bytes())
    except ValueError as exc:
        report.add(Problem("invalid_json", f"not valid JSON: {exc}", rel, doc_id, hint="fix the JSON syntax at the position given"))
        return PacketCheck(folder, doc_id, None, report)
    check_annotation_data(schemas, data, rel, doc_id, text, sha256_text(text), report)
    given = data.get("annotator", {}).get("given") if isinstance(data, dict) and isinstance(data.get("annotator"), dict) else None
    if isinstance(given, dict):
        for key, name in GIVEN_FILES.items():
            path = folder / name.format(doc=doc_id)
            found = sha256_bytes(path.read_bytes())
            if key in given and found != given[key]:
                report.add(Problem("packet_file_changed", f"{path.name} differs from the file given with this packet", rel, doc_id,
                                   pointer=pointer("annotator", "given", key), expected=given[key], found=found,
                                   hint="never edit the guidelines, schema or text of a packet; restore them or prepare a new packet"))
    return PacketCheck(folder, doc_id, data, report)


@dataclass
class Submission:
    """A packet brought into the corpus."""

    check: PacketCheck
    set_name: str
    written: Path | None
    stale_given: list[str]


def submit_packet(corpus: Corpus, folder: Path, set_name: str | None = None) -> Submission:
    """Check a filled-in packet and write it as ``annotations/<set>/<doc_id>.json``, stamped with the time of receipt."""
    checked = check_packet(folder)
    data = checked.data
    name = set_name or (data.get("annotator", {}).get("name") if isinstance(data, dict) else None)
    if not isinstance(name, str):
        raise UsageError(f"{folder}: no annotator name in the file; pass --set NAME", hint="e.g. --set pass-1")
    check_set_name(name)
    stale: list[str] = []
    if not checked.report.ok:
        return Submission(checked, name, None, stale)
    if data["annotator"]["name"] != name:
        checked.report.add(Problem("set_name_mismatch", "the packet was prepared for another annotator", f"{checked.doc_id}.json",
                                   checked.doc_id, pointer=pointer("annotator", "name"), expected=repr(name),
                                   found=short(data["annotator"]["name"]), hint="submit it under its annotator's name (leave out --set)"))
        return Submission(checked, name, None, stale)
    current = _sources(corpus, checked.doc_id)
    if sha256_bytes(current[f"{checked.doc_id}.txt"]) != data["text_sha256"]:
        raise DataError(f"{checked.doc_id}: the corpus text changed since this packet was prepared; nothing written",
                        hint="re-anchor the annotations onto the new text (chipwar reanchor) or prepare a new packet")
    given = data["annotator"]["given"] or {}
    stale = [name_ for key, name_ in GIVEN_FILES.items() if key in given and given[key] != sha256_bytes(current[name_.format(doc=checked.doc_id)])]
    data["annotator"]["submitted"] = now()
    target = corpus.annotation_path(name, checked.doc_id)
    if target.exists():  # checked again under the lock by create_only
        raise UsageError(f"{corpus.rel(target)}: already exists; a submitted pass is never overwritten",
                         hint="submit under a new set name, or remove the old file deliberately first")
    written = write_files(corpus.root, {target: dumps_json(data)}, create_only=True)
    return Submission(checked, name, written[0], stale)
