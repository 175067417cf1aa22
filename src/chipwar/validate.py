"""``chipwar validate``: every check of the corpus in one pass, every problem collected.

What is read: exactly what the run's :class:`Scope` names (the whole corpus, or what a path
points at). Folders are listed first; a symlink that leaves the repository, a folder or pipe
where a file belongs, and a file name that is not a document id are reported and never read.

Checks, per document: the text is UTF-8, NFC, not empty, without CR, BOM or control
characters, and its SHA-256 and length equal the metadata; the metadata follows
``schema/document.schema.json``. Per annotation file: JSON Schema (closed label sets
included); offsets are JSON integers (the schema's ``integer`` also admits ``1.0`` and
``1e30``); the file's document exists and its text SHA-256 matches (else the file is
*stale*); for every span ``0 <= start < end <= len(text)``, ``text[start:end] == span["text"]``
and no white space at the edges; ids are ``<doc_id>:<local>`` and unique; every
canonical-entity reference resolves. Across the files of a set, one canonical id has one
record (label and name). What an interrupted write left is reported as a warning.

Work goes document by document and nothing is written, so memory stays flat. The per-file
work is kept near the floor of reading and parsing (see BENCHMARKS.md): paths are plain
strings, folders are listed once, the NFC check goes line by line, and a span that passes
every check costs one comparison chain; problems are then described by the slower code.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, repeat
from operator import itemgetter, lt
from pathlib import Path
from typing import Any, Callable, Literal

from .corpus import Corpus, kind_of, printable, refusal
from .errors import UsageError
from .files import loads_json
from .ids import DOC_ID, MAX_LENGTH, SET_NAME
from .layers import LAYERS, REFERENCE_FIELDS
from .parallel import chunked, ordered_map
from .report import Problem, Report, cut, pointer, short
from .schema import Schemas, load_schemas
from .writer import TEMP_PREFIX, leftovers

Progress = Callable[[int, int], None]

#: Documents per unit of work (see :mod:`chipwar.parallel`); each worker holds one document at
#: a time, so memory stays flat.
CHUNK_DOCS = 250

#: Deepest nesting looked into. No field of either schema nests past 5 levels; a deeper value
#: is reported as one problem before anything recursive (the schema checker, message
#: formatting) meets it.
MAX_DEPTH = 32

#: Schema errors listed per file; a file broken everywhere says how many more there were.
MAX_SCHEMA_PROBLEMS = 200

#: Which kind of file a JSON value was read from.
Kind = Literal["document", "annotations"]


# --------------------------------------------------------------------------- scope


@dataclass(frozen=True)
class Scope:
    """What one run reads, as the path it was given names it."""

    what: str
    whole: bool = False
    docs: tuple[str, ...] | None = None  # these documents; None: as corpus_docs and sets say
    sets: tuple[str, ...] | None = None  # these annotation sets; None: every set
    corpus_docs: bool = True  # every document of corpus/ (else only those the sets annotate)


WHOLE = Scope("the whole corpus", whole=True)

_WHAT_CAN_BE_CHECKED = ("validate checks the corpus checkout, corpus/, a document (corpus/<doc_id>.txt or .json), "
                        "annotations/, a set folder (annotations/<set>/) or an annotation file (annotations/<set>/<doc_id>.json)")


def scope_of(corpus: Corpus, path: Path | None) -> Scope:
    """The scope a path names; a :class:`UsageError` for a path validate cannot check."""
    if path is None:
        return WHOLE
    if not os.path.lexists(path):
        raise UsageError(f"{printable(path)}: no such file or folder", hint="check the path; `chipwar validate` with no path checks everything")
    parts = _relative(corpus, path).parts
    if not parts:
        return WHOLE
    top, rest = parts[0], parts[1:]
    if top == "corpus" and not rest:
        return Scope("corpus/ (every document)", sets=())
    if top == "corpus" and len(rest) == 1 and rest[0].endswith((".txt", ".json")):
        doc_id = _checked_id(path, rest[0].rpartition(".")[0], DOC_ID, "document id")
        return Scope(f"corpus/{rest[0]}", docs=(doc_id,))
    if top == "annotations" and not rest:
        return Scope("annotations/ (every set)", corpus_docs=False)
    if top == "annotations" and len(rest) == 1 and os.path.isdir(path):
        set_name = _checked_id(path, rest[0], SET_NAME, "annotation set name")
        return Scope(f"annotations/{set_name}/", sets=(set_name,), corpus_docs=False)
    if top == "annotations" and len(rest) == 2 and rest[1].endswith(".json"):
        set_name = _checked_id(path, rest[0], SET_NAME, "annotation set name")
        doc_id = _checked_id(path, rest[1].removesuffix(".json"), DOC_ID, "document id")
        return Scope(f"annotations/{set_name}/{doc_id}.json", docs=(doc_id,), sets=(set_name,))
    raise UsageError(f"{printable(path)}: not something validate can check; {_WHAT_CAN_BE_CHECKED}",
                     hint="run `chipwar validate` with no path to check everything")


def _relative(corpus: Corpus, path: Path) -> Path:
    """``path`` relative to the corpus root, as written (a symlink names where it sits, not where it points)."""
    written = Path(os.path.normpath(os.path.abspath(path)))
    for candidate in (written, Path(os.path.realpath(path))):
        if candidate.is_relative_to(corpus.root):
            return candidate.relative_to(corpus.root)
    raise UsageError(f"{printable(path)}: outside the corpus at {printable(corpus.root)}", hint="pass a path inside the corpus checkout")


def _checked_id(path: Path, value: str, pattern: re.Pattern[str], kind: str) -> str:
    if _valid(value, pattern):
        return value
    raise UsageError(f"{printable(path)}: {short(printable(value), 60)} is not a valid {kind} (it must match {pattern.pattern})",
                     hint=_WHAT_CAN_BE_CHECKED)


def _valid(value: str, pattern: re.Pattern[str]) -> bool:
    return len(value) <= MAX_LENGTH and pattern.fullmatch(value) is not None


# --------------------------------------------------------------------------- listing


@dataclass
class _Folder:
    """A folder of the corpus, listed once: the files that may be read (name -> whether it is a
    symlink inside the repository) and, by file name, the problem of each one refused.

    Paths are plain strings: building and relativising a ``Path`` per file cost as much as
    parsing the file. ``file(name)`` equals ``(str(folder / name), corpus.rel(folder / name))``.
    """

    path: str
    rel: str
    files: dict[str, bool] = field(default_factory=dict)
    refused: dict[str, Problem] = field(default_factory=dict)
    staging: list[str] = field(default_factory=list)  # what an interrupted write left (see chipwar.writer)
    stems: set[str] = field(default_factory=set)  # document ids with a file here, read or refused

    def file(self, name: str) -> tuple[str, str]:
        return os.path.join(self.path, name), f"{self.rel}/{name}"


def _folder_refusal(root: str, path: str) -> str | None:
    """Why a corpus folder may not be listed; ``None`` also when it does not exist (it is then empty)."""
    return None if not os.path.lexists(path) else refusal(Path(root), path, folder=True)


def _list_folder(root: str, path: str, rel: str, suffix: tuple[str, ...]) -> _Folder:
    """List a folder of documents or annotation files (names ending in ``suffix``)."""
    folder = _Folder(path, rel)
    try:
        entries = list(os.scandir(path)) if os.path.isdir(path) else []
    except OSError as exc:
        folder.refused[""] = Problem("unreadable", f"cannot list the folder ({exc.strerror})", rel, hint="check its permissions")
        return folder
    is_id = DOC_ID.fullmatch
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            if name.startswith(TEMP_PREFIX):
                folder.staging.append(name)
            continue
        if not name.endswith(suffix):
            continue
        stem = name.rpartition(".")[0]
        folder.stems.add(stem)
        if len(stem) <= MAX_LENGTH and is_id(stem) and entry.is_file(follow_symlinks=False):
            folder.files[name] = False  # the usual entry: a plain file with a good name
        elif len(stem) > MAX_LENGTH or not is_id(stem):
            folder.refused[name] = Problem("bad_file_name", "file name is not '<doc_id>' plus its extension", f"{rel}/{printable(name)}",
                                           expected=f"a document id matching {DOC_ID.pattern}", found=short(printable(stem)),
                                           hint="rename it to its document id (lowercase letters, digits, hyphens), or move it out")
        elif entry.is_symlink():
            why = refusal(Path(root), entry.path)
            if why is None:
                folder.files[name] = True
            else:
                folder.refused[name] = _refused(f"{rel}/{name}", stem, why)
        else:
            try:
                kind = kind_of(entry.stat(follow_symlinks=False).st_mode)
            except OSError:
                kind = "not a file"
            folder.refused[name] = _refused(f"{rel}/{name}", stem, f"{kind}, not a file")
    return folder


def _refused(rel: str, doc_id: str | None, why: str) -> Problem:
    code = "symlink_outside" if "outside the repository" in why else "not_a_file"
    return Problem(code, f"refused, not read: {why}", rel, doc_id, expected="a regular file or folder (a symlink only inside the repository)",
                   found=why.partition(",")[0], hint="replace it with the file or folder itself, inside the repository")


def _list_sets(corpus: Corpus, scope: Scope, root: str) -> tuple[list[_Folder], list[Problem]]:
    """The annotation sets in scope, listed; problems for those that may not be read."""
    problems: list[Problem] = []
    base = str(corpus.annotations_dir)
    why = _folder_refusal(root, base)
    if why is not None:
        return [], [_refused("annotations", None, why)]
    if not os.path.isdir(base):
        return [], []
    names = sorted(e.name for e in os.scandir(base) if not e.name.startswith(".") and e.is_dir())
    if scope.sets is not None:
        missing = [s for s in scope.sets if s not in names]
        problems += [Problem("missing_set", "no such annotation set", f"annotations/{s}", hint="check the set name") for s in missing]
        names = [s for s in names if s in scope.sets]
    folders = []
    for name in names:
        rel, path = f"annotations/{printable(name)}", os.path.join(base, name)
        if not _valid(name, SET_NAME):
            problems.append(Problem("bad_set_name", "annotation set folder name is not a valid set name", rel,
                                    expected=f"a name matching {SET_NAME.pattern}", found=short(printable(name)),
                                    hint="rename the folder (lowercase letters, digits, '-', '_'), or move it out of annotations/"))
            continue
        why = _folder_refusal(root, path)
        if why is not None:
            problems.append(_refused(rel, None, why))
            continue
        folders.append(_list_folder(root, path, rel, (".json",)))
    return folders, problems


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class Validation:
    """What a run found, what it covered, and (for a run on part of the corpus) every file it read."""

    report: Report
    scope: Scope
    checked: list[str]


@dataclass(frozen=True)
class _Job:
    """What every chunk needs (shared with the workers by fork, not pickled)."""

    schemas: Schemas
    docs: _Folder
    sets: tuple[_Folder, ...]
    fast: bool
    list_checked: bool


#: Canonical-entity records seen in a set: canonical id -> (label, name) -> (file, index) where first seen.
Records = dict[str, dict[tuple[Any, Any], tuple[str, int]]]


@dataclass
class _Part:
    """One chunk's findings."""

    report: Report = field(default_factory=Report)
    records: dict[str, Records] = field(default_factory=dict)  # by set folder
    firsts: dict[str, set[tuple[Any, Any, Any]]] = field(default_factory=dict)  # by set folder: (id, label, name) of each first record
    checked: list[str] = field(default_factory=list)


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
    why = _folder_refusal(root, str(corpus.corpus_dir))
    docs = _Folder(str(corpus.corpus_dir), "corpus")
    if why is not None:
        report.add(_refused("corpus", None, why))
    else:
        docs = _list_folder(root, docs.path, "corpus", (".txt", ".json"))
    sets, set_problems = _list_sets(corpus, scope, root) if scope.sets != () else ([], [])
    report.extend(set_problems)
    doc_ids = _doc_ids(scope, docs, sets)
    wanted = None if scope.docs is None else set(scope.docs)
    for folder in (docs, *sets):
        report.extend(p for name, p in sorted(folder.refused.items())
                      if wanted is None or name == "" or name.rpartition(".")[0] in wanted)
    job = _Job(schemas, docs, tuple(sets), fast, list_checked=not scope.whole)
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
    report.extend(_record_conflicts(records))
    report.extend(_leftover_problems(corpus, (docs, *sets)))
    return Validation(report, scope, checked)


def _doc_ids(scope: Scope, docs: _Folder, sets: list[_Folder]) -> list[str]:
    """The documents a run goes through: its own, or those of corpus/ and of the sets in scope."""
    if scope.docs is not None:
        return list(scope.docs)
    ids = set(docs.stems) if scope.corpus_docs else set()
    for folder in sets:
        ids |= folder.stems
    return sorted(i for i in ids if _valid(i, DOC_ID))


def _leftover_problems(corpus: Corpus, listed: tuple[_Folder, ...]) -> list[Problem]:
    """A warning for each journal or staging file an interrupted write left (the listed folders' were seen when listing them)."""
    out = []
    found = leftovers(corpus.root, [f for f in (corpus.root, corpus.schema_dir, corpus.annotations_dir) if not os.path.islink(f)])
    found += sorted(Path(folder.path, name) for folder in listed for name in folder.staging)
    for path in found:
        out.append(Problem("interrupted_write", "an interrupted chipwar write left this behind", printable(corpus.rel(path)),
                           hint="run `chipwar generate`, which finishes or removes it (so does the next chipwar command that writes "
                                "a file); remove a staging file by hand only when no chipwar is running", severity="warning"))
    return out


def _check_chunk(job: _Job, doc_ids: list[str]) -> _Part:
    """Check some documents and their annotation files (in a worker, or in-process)."""
    part = _Part()
    report, docs = part.report, job.docs
    for doc_id in doc_ids:
        has_document = doc_id in docs.stems
        text = sha = None
        if has_document:
            text, sha = _check_document(job, doc_id, part)
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
            data = _load(path, follow, rel, doc_id, part, job.list_checked)
            if data is _BROKEN:
                continue
            schema_ok = _check_annotation(job.schemas, data, rel, doc_id, text, sha, report, job.fast)
            if isinstance(data, dict):
                _collect_records(data, rel, part.records.setdefault(folder.rel, {}), part.firsts.setdefault(folder.rel, set()),
                                 schema_ok and job.fast)
    return part


#: What :func:`_load` gives for a file that could not be read or parsed (``None`` is JSON ``null``).
_BROKEN: Any = object()


def _read(path: str, follow: bool) -> bytes:
    """A file's bytes; a plain file is opened without following a symlink that replaced it since it was listed."""
    fd = os.open(path, os.O_RDONLY if follow else os.O_RDONLY | os.O_NOFOLLOW)
    with open(fd, "rb") as fh:
        return fh.read()


def _read_or_report(path: str, follow: bool, rel: str, doc_id: str, part: _Part, list_checked: bool) -> bytes | None:
    try:
        raw = _read(path, follow)
    except OSError as exc:
        part.report.add(Problem("unreadable", f"cannot read it ({exc.strerror})", rel, doc_id,
                                hint="check that it is a regular file you may read"))
        return None
    if list_checked:
        part.checked.append(rel)
    return raw


def _load(path: str, follow: bool, rel: str, doc_id: str, part: _Part, list_checked: bool) -> Any:
    """A JSON file's value, or ``_BROKEN`` with the problem reported."""
    raw = _read_or_report(path, follow, rel, doc_id, part, list_checked)
    if raw is None:
        return _BROKEN
    try:
        return loads_json(raw)
    except ValueError as exc:
        part.report.add(_json_problem(exc, rel, doc_id))
        return _BROKEN


def _json_problem(exc: ValueError, rel: str, doc_id: str | None) -> Problem:
    if "depth limit" in str(exc):
        return _too_deep(rel, doc_id)
    return Problem("json_malformed", f"not valid JSON: {cut(str(exc), 300)}", rel, doc_id,
                   hint="fix the syntax at the position given (or restore the file with git checkout)")


def _too_deep(rel: str, doc_id: str | None) -> Problem:
    return Problem("too_deep", f"JSON nested deeper than {MAX_DEPTH} levels; no field of the schema nests that deep", rel, doc_id,
                   expected=f"at most {MAX_DEPTH} levels", found="deeper", hint="restore the file (git checkout) or rebuild it")


def _depth_over(value: Any, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit`` (without recursion, so any depth is safe)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
    return False


# --------------------------------------------------------------------------- documents


#: C0 controls a text may not hold (the text form rules of :mod:`chipwar.textform`): all but tab and line feed; CR has its own check.
_C0 = bytes(b for b in range(32) if b not in b"\t\n\r")
_CONTROL = re.compile("[" + re.escape(_C0.decode("ascii")) + "]")


def _check_document(job: _Job, doc_id: str, part: _Part) -> tuple[str | None, str | None]:
    """Check a document's text and metadata; return its text and SHA-256 when usable."""
    report, docs = part.report, job.docs
    report.count("documents")
    text_name, meta_name = doc_id + ".txt", doc_id + ".json"
    (text_path, text_rel), (meta_path, meta_rel) = docs.file(text_name), docs.file(meta_name)
    text = sha = None
    follow = docs.files.get(text_name)
    if follow is not None:
        raw = _read_or_report(text_path, follow, text_rel, doc_id, part, job.list_checked)
        if raw is not None:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                report.add(Problem("text_not_utf8", f"text is not UTF-8 at byte {exc.start}", text_rel, doc_id,
                                   expected="UTF-8", found=repr(raw[exc.start:exc.start + 8]),
                                   hint="re-run intake on the received file; intake decodes and records the encoding"))
        if text is not None:
            sha = hashlib.sha256(raw).hexdigest()  # = sha256_text(text): valid UTF-8 decodes and encodes back to the same bytes
            _check_text_form(raw, text, text_rel, doc_id, report)
    elif text_name not in docs.refused:
        report.add(Problem("missing_text", "metadata has no text file beside it", meta_rel, doc_id,
                           expected=text_rel, found="no such file", hint="restore the text (git checkout) or remove the metadata"))
    follow = docs.files.get(meta_name)
    if follow is None:
        if meta_name not in docs.refused:
            report.add(Problem("missing_metadata", "text has no metadata file beside it", text_rel, doc_id,
                               expected=meta_rel, found="no such file", hint="create it with `chipwar intake`"))
        return text, sha
    meta = _load(meta_path, follow, meta_rel, doc_id, part, job.list_checked)
    if meta is _BROKEN:
        return text, sha
    problems = _schema_problems(job.schemas, job.schemas.document_validator, meta, meta_rel, doc_id)
    report.extend(problems)
    if not isinstance(meta, dict) or (problems and problems[0].code == "too_deep"):
        return text, sha
    report.extend(_whole_float_problems("document", meta, meta_rel, doc_id))
    if meta.get("doc_id") != doc_id:
        report.add(Problem("doc_id_mismatch", "metadata doc_id differs from the file name", meta_rel, doc_id,
                           pointer=pointer("doc_id"), expected=repr(doc_id), found=short(meta.get("doc_id")),
                           hint="the file name stem is the document id; make them equal"))
    intake = meta.get("intake") if isinstance(meta.get("intake"), dict) else {}
    recorded = intake.get("text_sha256")
    if sha is not None and isinstance(recorded, str) and recorded != sha:
        report.add(Problem("text_sha256_mismatch", "text differs from the one recorded at intake", text_rel, doc_id,
                           pointer=pointer("intake", "text_sha256"), expected=short(recorded), found=sha,
                           hint=f"texts are immutable: restore it (git checkout -- {text_rel}), "
                                "or re-anchor the annotations to a corrected text"))
    length = intake.get("length_codepoints")
    if text is not None and type(length) is int and length != len(text):
        report.add(Problem("text_length_mismatch", "text length differs from the one recorded at intake", meta_rel, doc_id,
                           pointer=pointer("intake", "length_codepoints"), expected=str(length), found=str(len(text))))
    return text, sha


def _check_text_form(raw: bytes, text: str, rel: str, doc_id: str, report: Report) -> None:
    if text.startswith("\ufeff"):
        report.add(Problem("text_has_bom", "text starts with a byte-order mark", rel, doc_id, expected="no BOM", found="U+FEFF at 0",
                           hint="intake removes a BOM once and records it; re-run `chipwar intake` on the received file"))
    cr = text.find("\r")
    if cr >= 0:
        line = text.count("\n", 0, cr) + 1
        report.add(Problem("text_has_cr", f"text has a carriage return (line {line}, code point {cr})", rel, doc_id,
                           expected="LF line ends", found="CR" + ("LF" if text[cr + 1:cr + 2] == "\n" else ""),
                           hint="intake turns CRLF into LF once and records it; re-run `chipwar intake` on the received file"))
    if not _is_nfc(text):
        at = next(i for i, ch in enumerate(text) if unicodedata.normalize("NFC", text[i:i + 2]) != text[i:i + 2])
        report.add(Problem("text_not_nfc", f"text is not in Unicode NFC (first at code point {at})", rel, doc_id,
                           expected="NFC", found=short(text[at:at + 2]), hint="intake normalises to NFC once and records it"))
    if not text or text.isspace():
        report.add(Problem("text_empty", "text is empty" if not text else "text is only white space", rel, doc_id,
                           expected="the article's text", found=f"{len(text)} white-space characters" if text else "0 characters",
                           hint="restore the text (git checkout), or remove the document's .txt and .json"))
    if len(raw.translate(None, _C0)) != len(raw):  # in UTF-8 these bytes stand only for themselves
        found = _CONTROL.search(text)
        assert found is not None
        at = found.start()
        report.add(Problem("text_has_control", f"text holds a control character (line {text.count(chr(10), 0, at) + 1}, code point {at})",
                           rel, doc_id, expected="no control characters but tab and line feed", found=f"U+{ord(found[0]):04X}",
                           hint="remove it from the received file and re-run `chipwar intake`, or correct the text with `chipwar reanchor`"))


_is_nfc_line = partial(unicodedata.is_normalized, "NFC")


def _is_nfc(text: str) -> bool:
    """``unicodedata.is_normalized("NFC", text)``, line by line: the same answer, because no
    canonical mapping involves a line feed and it is a starter, so nothing composes or
    reorders across it. The gain: one combining mark (a "maybe" for the quick check) makes
    CPython normalise its own line in full rather than the whole text."""
    return all(map(_is_nfc_line, text.split("\n")))


# --------------------------------------------------------------------------- JSON Schema


_CODES = {"additionalProperties": "unknown_field", "required": "missing_field", "type": "wrong_type",
          "pattern": "bad_format", "format": "bad_format", "const": "wrong_value"}


def _schema_problems(schemas: Schemas, validator: Any, obj: Any, rel: str, doc_id: str | None) -> list[Problem]:
    """JSON Schema errors as problems; label-set errors say which labels are allowed.

    A value nested deeper than :data:`MAX_DEPTH` gives one ``too_deep`` problem and nothing
    else: the checker and message formatting recurse.
    """
    try:
        if validator.is_valid(obj):
            return []
    except ValueError:  # jsonschema-rs: "Recursion limit reached"
        pass
    if _depth_over(obj, MAX_DEPTH):
        return [_too_deep(rel, doc_id)]
    out: list[Problem] = []
    try:
        for n, err in enumerate(validator.iter_errors(obj)):
            if n == MAX_SCHEMA_PROBLEMS:
                out.append(Problem("too_many_problems", f"more schema errors than the {MAX_SCHEMA_PROBLEMS} listed", rel, doc_id,
                                   hint="fix those listed and run it again"))
                break
            out.append(_schema_problem(schemas, err, obj, rel, doc_id))
    except ValueError as exc:
        out.append(Problem("schema_violation", f"could not be checked against the schema: {cut(str(exc), 200)}", rel, doc_id,
                           hint="restore the file (git checkout) or rebuild it"))
    return out


def _schema_problem(schemas: Schemas, err: Any, obj: Any, rel: str, doc_id: str | None) -> Problem:
    path = list(err.instance_path)
    kind = err.kind.name
    code, expected, found = _CODES.get(kind, "schema_violation"), _expected(err), short(err.instance)
    schema_path = list(err.schema_path)
    if kind == "oneOf" and len(schema_path) >= 2 and schema_path[-3:-2] == ["$defs"] and schemas.is_label_set(schema_path[-2]):
        code, expected = "unknown_label", f"one of {', '.join(schemas.label_names(schema_path[-2]))} ({schema_path[-2]})"
    elif kind == "oneOf" and isinstance(err.instance, str):
        nested = _label_set_under(schemas, schema_path)
        if nested:
            code, expected = "unknown_label", f"null or one of {', '.join(schemas.label_names(nested[0]))} ({nested[0]})"
    if kind == "additionalProperties":
        unexpected = list(err.kind.unexpected)
        path, expected = path + [unexpected[0]], "only the fields the schema defines"
        found = ", ".join(short(k, 40) for k in unexpected[:5]) + (f" and {len(unexpected) - 5} more" if len(unexpected) > 5 else "")
    elif kind == "required":
        path, found, expected = path + [err.kind.property], "nothing", f"field {err.kind.property!r}"
    return Problem(code, cut(err.message, 300), rel, doc_id, _annotation_id(obj, path), pointer(*path), expected, found,
                   hint="see schema/ for the allowed fields and labels")


def _expected(err: Any) -> str | None:
    """What the schema wanted, in words, for the errors that say it plainly."""
    kind = err.kind
    if kind.name == "type":
        return " or ".join(map(str, kind.types))
    if kind.name in ("minimum", "minLength"):
        return f">= {kind.limit}" if kind.name == "minimum" else f"at least {kind.limit} character(s)"
    return None


def _label_set_under(schemas: Schemas, schema_path: list) -> list[str]:
    """Label sets reachable from a ``oneOf`` of null-or-label (e.g. org_type)."""
    node: Any = schemas.annotations
    for part in schema_path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return []
    if not isinstance(node, list):
        return []
    refs = [o.get("$ref", "") for o in node if isinstance(o, dict)]
    return [r.rsplit("/", 1)[1] for r in refs if r.startswith("#/$defs/") and schemas.is_label_set(r.rsplit("/", 1)[1])]


def _annotation_id(obj: Any, path: list) -> str | None:
    """The id of the annotation a JSON path points into, if any."""
    if len(path) >= 2 and (path[0] in LAYERS or path[0] == "canonical_entities") and isinstance(path[1], int) and isinstance(obj, dict):
        items = obj.get(path[0])
        if isinstance(items, list) and path[1] < len(items) and isinstance(items[path[1]], dict):
            value = items[path[1]].get("id")
            return value if isinstance(value, str) else None
    return None


#: Fields the schemas type ``integer``, as paths (``*``: every item of a list). JSON Schema counts
#: ``1.0`` and ``1e30`` as integers, so the schema lets them through, and they arrive as Python
#: floats (so does an integer past 64 bits); :func:`_whole_floats` finds them. The span fast path
#: checks offsets itself, so this runs only on files that path does not clear.
INTEGER_FIELDS: dict[Kind, tuple[tuple[str, ...], ...]] = {
    "document": (("intake", "length_codepoints"),),
    "annotations": tuple((layer, "*", name) for layer in LAYERS for name in ("start", "end")),
}


def _whole_floats(kind: Kind, data: Any) -> list[tuple[list[str | int], float]]:
    """(path, value) of every field of :data:`INTEGER_FIELDS` that holds a float with an integer value."""
    out: list[tuple[list[str | int], float]] = []
    for field_path in INTEGER_FIELDS[kind]:
        nodes: list[tuple[list[str | int], Any]] = [([], data)]
        for part in field_path:
            step: list[tuple[list[str | int], Any]] = []
            for where, node in nodes:
                if part == "*" and isinstance(node, list):
                    step += [([*where, i], item) for i, item in enumerate(node)]
                elif isinstance(node, dict) and part in node:
                    step.append(([*where, part], node[part]))
            nodes = step
        out += [(where, value) for where, value in nodes if type(value) is float and value.is_integer()]
    order = {layer: n for n, layer in enumerate(LAYERS)}
    return sorted(out, key=lambda found: (order.get(found[0][0], -1), found[0][1:2]))  # file order: layer, span, start, end


def _whole_float_problems(kind: Kind, data: Any, rel: str, doc_id: str) -> list[Problem]:
    return [Problem("wrong_type", f"{where[-1]} must be an integer written without fraction or exponent, within 64 bits",
                    rel, doc_id, _annotation_id(data, where), pointer(*where), "an integer written without fraction or exponent",
                    short(value), hint="write it as a plain integer (e.g. 1000, not 1000.0 or 1e3)")
            for where, value in _whole_floats(kind, data)]


# --------------------------------------------------------------------------- annotation files


def check_annotation_data(schemas: Schemas, data: Any, rel: str, doc_id: str,
                          text: str | None, sha: str | None, report: Report, *, fast: bool = True) -> None:
    """Every check of one annotation file's parsed content, against its document's text and SHA-256.

    Importers call this on what they are about to write, so nothing invalid reaches the disk.
    ``fast=False``: see :func:`validate_corpus`.
    """
    _check_annotation(schemas, data, rel, doc_id, text, sha, report, fast)


def _check_annotation(schemas: Schemas, data: Any, rel: str, doc_id: str,
                      text: str | None, sha: str | None, report: Report, fast: bool) -> bool:
    """:func:`check_annotation_data`; returns whether the file passed the schema.

    Offsets written as floats pass the schema; they are reported with the spans (by
    :func:`_check_spans`, whose fast path checks the offsets' types before anything else),
    or here when the spans cannot be checked against a text.
    """
    schema_problems = _schema_problems(schemas, schemas.annotations_validator, data, rel, doc_id)
    report.extend(schema_problems)
    if not isinstance(data, dict) or (schema_problems and schema_problems[0].code == "too_deep"):
        return False
    if data.get("doc_id") != doc_id:
        report.add(Problem("doc_id_mismatch", "annotation file's doc_id differs from its file name", rel, doc_id, pointer=pointer("doc_id"),
                           expected=repr(doc_id), found=short(data.get("doc_id")), hint="the file name stem is the document id; make them equal"))
    if text is None or data.get("text_sha256") != sha:
        report.extend(_whole_float_problems("annotations", data, rel, doc_id))
        if text is not None:
            report.add(Problem("stale_annotations", "annotations were made against a different text than the document has now", rel, doc_id,
                               pointer=pointer("text_sha256"), expected=sha, found=short(data.get("text_sha256")),
                               hint="restore the document's text, or re-anchor these annotations onto the new text and update text_sha256"))
        return not schema_problems
    canonical = _check_canonical(data, rel, doc_id, report)
    _check_spans(data, text, rel, doc_id, canonical, report, fast=fast and not schema_problems)
    return not schema_problems


def _check_canonical(data: dict, rel: str, doc_id: str, report: Report) -> set[str]:
    entities = data.get("canonical_entities")
    if type(entities) is not list:
        return set()
    if set(map(type, entities)) <= {dict}:  # fast path: all ids strings, none repeated
        ids = [ent.get("id") for ent in entities]
        if set(map(type, ids)) <= {str} and len(set(ids)) == len(ids):
            return set(ids)
    seen: set[str] = set()
    for i, ent in enumerate(entities):
        cid = ent.get("id") if isinstance(ent, dict) else None
        if not isinstance(cid, str):
            continue
        if cid in seen:
            report.add(Problem("duplicate_id", f"canonical entity {short(cid)} is defined twice", rel, doc_id, cid,
                               pointer("canonical_entities", i, "id"), expected="unique canonical ids", found=short(cid)))
        seen.add(cid)
    return seen


def _check_spans(data: dict, text: str, rel: str, doc_id: str, canonical: set[str], report: Report, fast: bool) -> None:
    """Offsets (their types first), surface texts, ids and references of every span. ``fast``:
    the file passed the schema, so :func:`_spans_clean` may decide a clean file at once."""
    for layer in LAYERS:
        if isinstance(data.get(layer), list):
            report.count(layer, len(data[layer]))
    prefix = doc_id + ":"
    if fast and _spans_clean(data, text, prefix, canonical):
        return
    report.extend(_whole_float_problems("annotations", data, rel, doc_id))
    n = len(text)
    seen: dict[str, str] = {}
    for layer in LAYERS:
        spans = data.get(layer)
        if not isinstance(spans, list):
            continue
        for i, span in enumerate(spans):
            if not isinstance(span, dict):
                continue
            sid, start, end, surface = span.get("id"), span.get("start"), span.get("end"), span.get("text")
            sid = sid if isinstance(sid, str) else None
            if sid is not None:
                if sid in seen:
                    report.add(Problem("duplicate_id", f"id {short(sid)} is used twice (first in {seen[sid]})", rel, doc_id, sid,
                                       pointer(layer, i, "id"), expected="ids unique across the corpus", found=short(sid),
                                       hint="give the later annotation a new local id"))
                else:
                    seen[sid] = f"{layer}"
                if not sid.startswith(prefix):
                    report.add(Problem("id_prefix_mismatch", "annotation id does not start with its document id", rel, doc_id, sid,
                                       pointer(layer, i, "id"), expected=repr(prefix + "…"), found=short(sid),
                                       hint="ids are '<doc_id>:<local>', which keeps them unique across the corpus"))
            if type(start) is int and type(end) is int and start >= 0:
                _check_offsets(layer, i, sid, start, end, surface, text, n, rel, doc_id, report)
            for name, ref in _references(layer, span):
                if ref not in canonical:
                    report.add(Problem("dangling_reference", f"{name} refers to canonical entity {short(ref)}, which this file does not define",
                                       rel, doc_id, sid, pointer(layer, i, name), expected="an id from canonical_entities", found=short(ref),
                                       hint="add the entity to canonical_entities or fix the id"))


def _references(layer: str, span: dict) -> list[tuple[str, str]]:
    """(field, canonical id) pairs a span refers to; values of the wrong type are the schema's to report."""
    out: list[tuple[str, str]] = []
    for name, is_list in REFERENCE_FIELDS[layer].items():
        value = span.get(name)
        if is_list and isinstance(value, list):
            out += [(name, v) for v in value if isinstance(v, str)]
        elif not is_list and isinstance(value, str):
            out.append((name, value))
    return out


_FIRST, _LAST = itemgetter(0), itemgetter(-1)
_SPAN_FIELDS = itemgetter("id", "start", "end", "text")
_REFERENCE_GETTERS = {layer: [(itemgetter(field), is_list) for field, is_list in fields.items()]
                      for layer, fields in REFERENCE_FIELDS.items()}
_INT = {int}


def _spans_clean(data: dict, text: str, prefix: str, canonical: set[str]) -> bool:
    """Whether the span loop of :func:`_check_spans` would find nothing, decided with whole-list
    operations that run in C: a clean file, the usual case, then costs a fraction of the loop.

    Only for a file that passed the JSON Schema, which guarantees every type used here (spans
    are objects; ids, texts and references are present and typed) but one: its ``integer``
    admits ``1.0`` and ``1e30``, which arrive as floats. So each layer's offsets are checked
    to be ``int`` first, before any comparison or slice; a float sends the file to the loop,
    which reports it. ``schema/`` can be edited: should a value it lets through not fit what
    this path takes, the path declines the same way. A check added to the loop must be ruled
    out here as well.
    """
    try:
        n = len(text)
        ids: list[str] = []
        for layer in LAYERS:
            spans = data[layer]
            if not spans:
                continue
            layer_ids, starts, ends, surfaces = zip(*map(_SPAN_FIELDS, spans), strict=False)
            if not _INT.issuperset(map(type, starts + ends)):
                return False
            if not (all(map(str.startswith, layer_ids, repeat(prefix))) and min(starts) >= 0 and max(ends) <= n
                    and all(map(lt, starts, ends))
                    and list(map(text.__getitem__, map(slice, starts, ends))) == list(surfaces)
                    and not any(map(str.isspace, map(_FIRST, surfaces))) and not any(map(str.isspace, map(_LAST, surfaces)))):
                return False
            ids += layer_ids
            for getter, is_list in _REFERENCE_GETTERS[layer]:
                refs = map(getter, spans)
                if not canonical.issuperset(chain.from_iterable(refs) if is_list else filter(None, refs)):
                    return False
        return len(set(ids)) == len(ids)
    except (KeyError, TypeError, AttributeError, IndexError):
        return False


def _check_offsets(layer: str, i: int, sid: str | None, start: int, end: int, surface: Any, text: str, n: int,
                   rel: str, doc_id: str, report: Report) -> None:
    if end <= start:
        report.add(Problem("offset_order", "span ends before or where it starts", rel, doc_id, sid, pointer(layer, i, "end"),
                           expected=f"end > start ({_number(start)})", found=_number(end)))
        return
    if end > n:
        report.add(Problem("offset_out_of_range", "span ends past the end of the text", rel, doc_id, sid, pointer(layer, i, "end"),
                           expected=f"end <= {n} (text length in code points)", found=_number(end)))
        return
    if not isinstance(surface, str):
        return
    actual = text[start:end]
    if actual != surface:
        at = _nearest(text, surface, start)
        report.add(Problem("offset_text_mismatch", "text[start:end] differs from the span's text", rel, doc_id, sid,
                           pointer(layer, i, "start"), expected=short(surface), found=short(actual),
                           hint=(f"the span text occurs at start={at}, end={at + len(surface)}" if at is not None
                                 else "the span text does not occur in the document; fix text or offsets")))
    elif surface[:1].isspace() or surface[-1:].isspace():
        report.add(Problem("span_whitespace_edge", "span starts or ends with white space", rel, doc_id, sid, pointer(layer, i, "text"),
                           expected="no white space at span edges", found=short(surface), hint="trim the span and its offsets"))


def _number(value: int) -> str:
    """An integer for a message, bounded (Python refuses to print integers past 4,300 digits)."""
    return str(value) if abs(value) < 10**30 else f"an integer of {value.bit_length()} bits"


def _nearest(text: str, needle: str, near: int) -> int | None:
    """Offset of the occurrence of ``needle`` closest to ``near``, to suggest a fix."""
    if not needle:
        return None
    best, pos = None, text.find(needle)
    while pos >= 0:
        if best is None or abs(pos - near) < abs(best - near):
            best = pos
        pos = text.find(needle, pos + 1)
    return best


# --------------------------------------------------------------------------- canonical records across files


_TRIPLE = itemgetter("id", "label", "name")


def _collect_records(data: dict, rel: str, records: Records, firsts: set[tuple[Any, Any, Any]], typed: bool) -> None:
    """Note each canonical entity's record (label, name) where first seen in this set.

    ``firsts`` holds (id, label, name) of each id's first record. ``typed``: the file passed
    the schema, so a file whose every record is its id's first one is recognised with one set
    comparison in C (the usual case in a large set).
    """
    entities = data.get("canonical_entities")
    if type(entities) is not list:
        return
    if typed:
        try:
            if firsts.issuperset(map(_TRIPLE, entities)):
                return
        except (KeyError, TypeError):  # an edited schema let an odd entity through: look at each
            pass
    for i, ent in enumerate(entities):
        if not isinstance(ent, dict):
            continue
        cid, label, name = ent.get("id"), ent.get("label"), ent.get("name")
        if isinstance(cid, str) and isinstance(label, str) and isinstance(name, str):
            recs = records.setdefault(cid, {})
            if not recs:
                firsts.add((cid, label, name))
            recs.setdefault((label, name), (rel, i))


def _record_conflicts(records: dict[str, Records]) -> list[Problem]:
    """One problem per record of a canonical id that differs from its first record in the set:
    an error when the label differs, a warning when only the name does."""
    out = []
    for _set_rel, by_id in records.items():
        for cid, recs in by_id.items():
            (first, (first_rel, _)), *others = recs.items()
            for (label, name), (rel, i) in others:
                what = "label" if label != first[0] else "name"
                out.append(Problem(
                    "canonical_conflict", f"canonical entity {short(cid)} is {label} {short(name)} here but {first[0]} {short(first[1])} "
                    f"in {first_rel}", rel, rel.rsplit("/", 1)[-1].removesuffix(".json"), cid, pointer("canonical_entities", i, what),
                    expected=f"{first[0]} {short(first[1])} (as in {first_rel})", found=f"{label} {short(name)}",
                    hint="one canonical id is one real-world entity: give every file of the set the same record, or use a new id",
                    severity="error" if what == "label" else "warning"))
    return out


# --------------------------------------------------------------------------- for readers that trust the data


def load_sound(corpus: Corpus, schemas: Schemas, kind: Kind, path: Path, doc_id: str) -> tuple[Any, Problem | None]:
    """One JSON file for a reader that trusts its shape (stats, agreement, generated figures):
    its value when it may be read, parses, passes the schema and has integer offsets; else
    ``None`` and a problem saying it was skipped and why."""
    rel = printable(corpus.rel(path))
    why = refusal(corpus.root, path)
    if why is None:
        try:
            data = loads_json(path.read_bytes())
        except OSError as exc:
            why = f"cannot be read ({exc.strerror})"
        except ValueError as exc:
            why = _json_problem(exc, rel, doc_id).message
        else:
            validator = schemas.document_validator if kind == "document" else schemas.annotations_validator
            problems = _schema_problems(schemas, validator, data, rel, doc_id) or _whole_float_problems(kind, data, rel, doc_id)
            if not problems:
                return data, None
            first = problems[0]
            why = f"{first.message} (at {first.pointer or 'the top'})"
    return None, Problem("file_skipped", f"skipped: {why}", rel, doc_id, hint="run `chipwar validate` for every problem in it; "
                         "the figures leave this file out")


def readable_files(corpus: Corpus, folder: Path, suffix: str) -> tuple[list[str], list[Problem]]:
    """Ids of the files of a corpus folder (``corpus/``, a set) that may be read, sorted, and a
    problem for each that may not (a symlink out of the repository, a folder, a bad name)."""
    root, rel = str(corpus.root), printable(corpus.rel(folder))
    why = _folder_refusal(root, str(folder))
    if why is not None:
        return [], [_refused(rel, None, why)]
    listed = _list_folder(root, str(folder), rel, (suffix,))
    return sorted(name.removesuffix(suffix) for name in listed.files), [p for _, p in sorted(listed.refused.items())]


def readable_sets(corpus: Corpus) -> tuple[list[str], list[Problem]]:
    """Names of the annotation sets that may be read, sorted, and a problem for each folder that may not."""
    folders, problems = _list_sets(corpus, WHOLE, str(corpus.root))
    return [f.rel.removeprefix("annotations/") for f in folders], problems
