"""``chipwar validate``: every check of the corpus in one pass, every problem collected.

Checks, per document: the text is UTF-8, NFC, without CR or BOM, and its SHA-256 and
length equal the metadata; the metadata follows ``schema/document.schema.json``. Per
annotation file: JSON Schema (closed label sets included); the file's document exists and
its text SHA-256 matches (else the file is *stale*); for every span
``0 <= start < end <= len(text)``, ``text[start:end] == span["text"]`` and no white space
at the edges; ids are ``<doc_id>:<local>`` and unique (hence unique corpus-wide within a
set); every canonical-entity reference resolves. Finally generated files are up to date.

Work goes document by document and nothing is written, so memory stays flat. The per-file
work is kept near the floor of reading and parsing (see BENCHMARKS.md): paths are plain
strings, the NFC check goes line by line, and a span that passes every check costs one
comparison chain; problems are then described by the original, slower code.
"""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from functools import partial
from itertools import chain, repeat
from operator import itemgetter, lt
from pathlib import Path
from typing import Any, Callable

from .corpus import Corpus
from .files import loads_json, sha256_text
from .layers import LAYERS, REFERENCE_FIELDS, referenced_ids
from .parallel import chunked, ordered_map
from .report import Problem, Report, pointer, short
from .schema import Schemas, load_schemas

Progress = Callable[[int, int], None]


def validate_corpus(corpus: Corpus, only: Path | None = None, progress: Progress | None = None) -> Report:
    """Check the corpus (or, with ``only``, the documents and sets a path points at).

    Raises :class:`chipwar.schema.SchemaError` when ``schema/`` itself is unusable.
    """
    schemas = load_schemas(corpus.schema_dir)
    doc_ids, set_names, whole = _scope(corpus, only)
    report = Report()
    all_docs = set(corpus.doc_ids())
    for set_name in set_names:
        for orphan in sorted(set(corpus.annotated_doc_ids(set_name)) - all_docs):
            if orphan in doc_ids or whole:
                path = corpus.annotation_path(set_name, orphan)
                report.add(Problem(
                    "missing_document", f"annotation file has no document {orphan!r} in corpus/",
                    corpus.rel(path), orphan, expected=f"corpus/{orphan}.txt and corpus/{orphan}.json", found="neither",
                    hint="add the document with `chipwar intake`, or move the annotation file to the right document id",
                ))
    work = (schemas, _Folder(corpus, corpus.corpus_dir), [_Folder(corpus, corpus.annotations_dir / s) for s in set_names])
    done = 0
    for part in ordered_map(_check_chunk, work, chunked(doc_ids, CHUNK_DOCS)):
        report.extend(part.problems)
        for key, n in part.counts.items():
            report.count(key, n)
        done += part.counts.get("documents", 0)
        if progress:
            progress(done, len(doc_ids))
    return report


#: Documents per unit of work (see :mod:`chipwar.parallel`); each worker holds one document at
#: a time, so memory stays flat.
CHUNK_DOCS = 250


def _check_chunk(work: tuple[Schemas, _Folder, list[_Folder]], doc_ids: list[str]) -> Report:
    """Check some documents and their annotation files (in a worker, or in-process)."""
    schemas, docs_dir, set_dirs = work
    report = Report()
    for doc_id in doc_ids:
        text, sha = _check_document(schemas, docs_dir, doc_id, report)
        for set_dir in set_dirs:
            path, rel = set_dir.file(doc_id + ".json")
            if _is_file(path):
                report.count("annotation_files")
                _check_annotation_file(schemas, path, rel, doc_id, text, sha, report)
    return report


class _Folder:
    """A corpus folder as strings: building and relativising a ``Path`` per file cost as much as
    parsing the file. ``file(name)`` equals ``(str(folder / name), corpus.rel(folder / name))``."""

    def __init__(self, corpus: Corpus, folder: Path) -> None:
        self.path, self.rel = str(folder), corpus.rel(folder)

    def file(self, name: str) -> tuple[str, str]:
        return os.path.join(self.path, name), f"{self.rel}/{name}"


_MISSING_ERRNOS = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def _is_file(path: str) -> bool:
    """``Path(path).is_file()`` without building a Path: the same errors are ignored or raised."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError as exc:
        if exc.errno not in _MISSING_ERRNOS:
            raise
        return False
    except ValueError:
        return False


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def _scope(corpus: Corpus, only: Path | None) -> tuple[list[str], list[str], bool]:
    """Documents and sets to check, and whether that is the whole corpus."""
    doc_ids, set_names = corpus.doc_ids(), corpus.set_names()
    if only is None or only.resolve() == corpus.root:
        return doc_ids, set_names, True
    rel = only.resolve().relative_to(corpus.root).parts
    if rel[:1] == ("corpus",) and len(rel) == 2:
        return [Path(rel[1]).stem], set_names, False
    if rel[:1] == ("annotations",) and len(rel) >= 2:
        sets = [rel[1]]
        return ([Path(rel[2]).stem] if len(rel) == 3 else doc_ids), sets, False
    return doc_ids, set_names, True


def _check_document(schemas: Schemas, docs_dir: _Folder, doc_id: str, report: Report) -> tuple[str | None, str | None]:
    """Check a document's text and metadata; return its text and SHA-256 when usable."""
    report.count("documents")
    (text_path, text_rel), (meta_path, meta_rel) = docs_dir.file(doc_id + ".txt"), docs_dir.file(doc_id + ".json")
    text = sha = None
    if not _is_file(text_path):
        report.add(Problem("missing_text", "metadata has no text file beside it", meta_rel, doc_id,
                           expected=text_rel, found="no such file", hint="restore the text (git checkout) or remove the metadata"))
    else:
        raw = _read_bytes(text_path)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            report.add(Problem("text_not_utf8", f"text is not UTF-8 at byte {exc.start}", text_rel, doc_id,
                               expected="UTF-8", found=repr(raw[exc.start:exc.start + 8]),
                               hint="re-run intake on the received file; intake decodes and records the encoding"))
        if text is not None:
            sha = sha256_text(text)
            _check_text_form(text, text_rel, doc_id, report)
    if not _is_file(meta_path):
        report.add(Problem("missing_metadata", "text has no metadata file beside it", text_rel, doc_id,
                           expected=meta_rel, found="no such file", hint="create it with `chipwar intake`"))
        return text, sha
    meta = _parse_json(meta_path, meta_rel, doc_id, report)
    if meta is None:
        return text, sha
    report.extend(_schema_problems(schemas, schemas.document_validator, meta, meta_rel, doc_id))
    if isinstance(meta, dict):
        if meta.get("doc_id") != doc_id:
            report.add(Problem("doc_id_mismatch", "metadata doc_id differs from the file name", meta_rel, doc_id,
                               pointer=pointer("doc_id"), expected=repr(doc_id), found=short(meta.get("doc_id")),
                               hint="the file name stem is the document id; make them equal"))
        intake = meta.get("intake") if isinstance(meta.get("intake"), dict) else {}
        if sha is not None and intake.get("text_sha256") not in (None, sha):
            report.add(Problem("text_sha256_mismatch", "text differs from the one recorded at intake", text_rel, doc_id,
                               pointer=pointer("intake", "text_sha256"), expected=intake.get("text_sha256"), found=sha,
                               hint=f"texts are immutable: restore it (git checkout -- {text_rel}), "
                                    "or re-anchor the annotations to a corrected text"))
        if text is not None and isinstance(intake.get("length_codepoints"), int) and intake["length_codepoints"] != len(text):
            report.add(Problem("text_length_mismatch", "text length differs from the one recorded at intake", meta_rel, doc_id,
                               pointer=pointer("intake", "length_codepoints"), expected=str(intake["length_codepoints"]), found=str(len(text))))
    return text, sha


def _check_text_form(text: str, rel: str, doc_id: str, report: Report) -> None:
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


_is_nfc_line = partial(unicodedata.is_normalized, "NFC")


def _is_nfc(text: str) -> bool:
    """``unicodedata.is_normalized("NFC", text)``, line by line: the same answer, because no
    canonical mapping involves a line feed and it is a starter, so nothing composes or
    reorders across it. The gain: one combining mark (a "maybe" for the quick check) makes
    CPython normalise its own line in full rather than the whole text."""
    return all(map(_is_nfc_line, text.split("\n")))


def _parse_json(path: str, rel: str, doc_id: str, report: Report) -> Any:
    try:
        return loads_json(_read_bytes(path))
    except ValueError as exc:
        report.add(Problem("json_malformed", f"not valid JSON: {exc}", rel, doc_id,
                           hint="fix the syntax at the position given (or restore the file with git checkout)"))
        return None


_CODES = {"additionalProperties": "unknown_field", "required": "missing_field", "type": "wrong_type",
          "pattern": "bad_format", "format": "bad_format", "const": "wrong_value"}


def _schema_problems(schemas: Schemas, validator: Any, obj: Any, rel: str, doc_id: str) -> list[Problem]:
    """JSON Schema errors as problems; label-set errors say which labels are allowed."""
    if validator.is_valid(obj):
        return []
    out = []
    for err in validator.iter_errors(obj):
        path = list(err.instance_path)
        kind = err.kind.name
        code, expected, found = _CODES.get(kind, "schema_violation"), None, short(err.instance)
        schema_path = list(err.schema_path)
        if kind == "oneOf" and len(schema_path) >= 2 and schema_path[-3:-2] == ["$defs"] and schemas.is_label_set(schema_path[-2]):
            code, expected = "unknown_label", f"one of {', '.join(schemas.label_names(schema_path[-2]))} ({schema_path[-2]})"
        elif kind == "oneOf" and isinstance(err.instance, str):
            nested = [p for p in _label_set_under(schemas, schema_path)]
            if nested:
                code, expected = "unknown_label", f"null or one of {', '.join(schemas.label_names(nested[0]))} ({nested[0]})"
        if kind == "additionalProperties":
            path, found = path + [err.kind.unexpected[0]], ", ".join(map(repr, err.kind.unexpected))
            expected = "only the fields the schema defines"
        elif kind == "required":
            path, found, expected = path + [err.kind.property], "nothing", f"field {err.kind.property!r}"
        out.append(Problem(code, err.message, rel, doc_id, _annotation_id(obj, path), pointer(*path), expected, found,
                           hint="see schema/ for the allowed fields and labels"))
    return out


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
    if len(path) >= 2 and path[0] in LAYERS and isinstance(path[1], int) and isinstance(obj, dict):
        items = obj.get(path[0])
        if isinstance(items, list) and path[1] < len(items) and isinstance(items[path[1]], dict):
            value = items[path[1]].get("id")
            return value if isinstance(value, str) else None
    if len(path) >= 2 and path[0] == "canonical_entities" and isinstance(path[1], int) and isinstance(obj, dict):
        items = obj.get("canonical_entities")
        if isinstance(items, list) and path[1] < len(items) and isinstance(items[path[1]], dict):
            return items[path[1]].get("id")
    return None


def _check_annotation_file(schemas: Schemas, path: str, rel: str, doc_id: str,
                           text: str | None, sha: str | None, report: Report) -> None:
    data = _parse_json(path, rel, doc_id, report)
    if data is not None:
        check_annotation_data(schemas, data, rel, doc_id, text, sha, report)


def check_annotation_data(schemas: Schemas, data: Any, rel: str, doc_id: str,
                          text: str | None, sha: str | None, report: Report) -> None:
    """Every check of one annotation file's parsed content, against its document's text and SHA-256.

    Importers call this on what they are about to write, so nothing invalid reaches the disk.
    """
    schema_problems = _schema_problems(schemas, schemas.annotations_validator, data, rel, doc_id)
    report.extend(schema_problems)
    if not isinstance(data, dict):
        return
    if data.get("doc_id") != doc_id:
        report.add(Problem("doc_id_mismatch", "annotation file's doc_id differs from its file name", rel, doc_id, pointer=pointer("doc_id"),
                           expected=repr(doc_id), found=short(data.get("doc_id")), hint="the file name stem is the document id; make them equal"))
    if text is None:
        return
    if data.get("text_sha256") != sha:
        report.add(Problem("stale_annotations", "annotations were made against a different text than the document has now", rel, doc_id,
                           pointer=pointer("text_sha256"), expected=sha, found=short(data.get("text_sha256")),
                           hint="restore the document's text, or re-anchor these annotations onto the new text and update text_sha256"))
        return
    canonical = _check_canonical(data, rel, doc_id, report)
    _check_spans(data, text, rel, doc_id, canonical, report, schema_ok=not schema_problems)


def _check_canonical(data: dict, rel: str, doc_id: str, report: Report) -> set[str]:
    entities = data.get("canonical_entities") or ()
    if type(entities) is list and set(map(type, entities)) <= {dict}:  # fast path: all ids strings, none repeated
        ids = [ent.get("id") for ent in entities]
        if set(map(type, ids)) <= {str} and len(set(ids)) == len(ids):
            return set(ids)
    seen: set[str] = set()
    for i, ent in enumerate(entities):
        cid = ent.get("id") if isinstance(ent, dict) else None
        if not isinstance(cid, str):
            continue
        if cid in seen:
            report.add(Problem("duplicate_id", f"canonical entity {cid!r} is defined twice", rel, doc_id, cid,
                               pointer("canonical_entities", i, "id"), expected="unique canonical ids", found=repr(cid)))
        seen.add(cid)
    return seen


def _check_spans(data: dict, text: str, rel: str, doc_id: str, canonical: set[str], report: Report, schema_ok: bool) -> None:
    for layer in LAYERS:
        if isinstance(data.get(layer), list):
            report.count(layer, len(data[layer]))
    prefix = doc_id + ":"
    if schema_ok and _spans_clean(data, text, prefix, canonical):
        return
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
                    report.add(Problem("duplicate_id", f"id {sid!r} is used twice (first in {seen[sid]})", rel, doc_id, sid,
                                       pointer(layer, i, "id"), expected="ids unique across the corpus", found=repr(sid),
                                       hint="give the later annotation a new local id"))
                else:
                    seen[sid] = f"{layer}"
                if not sid.startswith(prefix):
                    report.add(Problem("id_prefix_mismatch", "annotation id does not start with its document id", rel, doc_id, sid,
                                       pointer(layer, i, "id"), expected=repr(prefix + "…"), found=repr(sid),
                                       hint="ids are '<doc_id>:<local>', which keeps them unique across the corpus"))
            if type(start) is int and type(end) is int and start >= 0:
                _check_offsets(layer, i, sid, start, end, surface, text, n, rel, doc_id, report)
            for field, ref in referenced_ids(layer, span):
                if isinstance(ref, str) and ref not in canonical:
                    report.add(Problem("dangling_reference", f"{field} refers to canonical entity {ref!r}, which this file does not define",
                                       rel, doc_id, sid, pointer(layer, i, field), expected="an id from canonical_entities", found=repr(ref),
                                       hint="add the entity to canonical_entities or fix the id"))


_FIRST, _LAST = itemgetter(0), itemgetter(-1)


_SPAN_FIELDS = itemgetter("id", "start", "end", "text")
_REFERENCE_GETTERS = {layer: [(itemgetter(field), is_list) for field, is_list in fields.items()]
                      for layer, fields in REFERENCE_FIELDS.items()}


def _spans_clean(data: dict, text: str, prefix: str, canonical: set[str]) -> bool:
    """Whether the span loop of :func:`_check_spans` would find nothing, decided with whole-list
    operations that run in C: a clean file, the usual case, then costs a fraction of the loop.

    Only for a file that passed the JSON Schema, which guarantees every type tested here
    (spans are objects; ids, offsets, texts and references are present and typed). A check
    added to the loop must be ruled out here as well.
    """
    n = len(text)
    ids: list[str] = []
    for layer in LAYERS:
        spans = data[layer]
        if not spans:
            continue
        layer_ids, starts, ends, surfaces = zip(*map(_SPAN_FIELDS, spans), strict=False)
        if not (all(map(str.startswith, layer_ids, repeat(prefix))) and max(ends) <= n and all(map(lt, starts, ends))
                and list(map(text.__getitem__, map(slice, starts, ends))) == list(surfaces)
                and not any(map(str.isspace, map(_FIRST, surfaces))) and not any(map(str.isspace, map(_LAST, surfaces)))):
            return False
        ids += layer_ids
        for getter, is_list in _REFERENCE_GETTERS[layer]:
            refs = map(getter, spans)
            if not canonical.issuperset(chain.from_iterable(refs) if is_list else filter(None, refs)):
                return False
    return len(set(ids)) == len(ids)


def _check_offsets(layer: str, i: int, sid: str | None, start: int, end: int, surface: Any, text: str, n: int,
                   rel: str, doc_id: str, report: Report) -> None:
    if end <= start:
        report.add(Problem("offset_order", "span ends before or where it starts", rel, doc_id, sid, pointer(layer, i, "end"),
                           expected=f"end > start ({start})", found=str(end)))
        return
    if end > n:
        report.add(Problem("offset_out_of_range", "span ends past the end of the text", rel, doc_id, sid, pointer(layer, i, "end"),
                           expected=f"end <= {n} (text length in code points)", found=str(end)))
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
