"""The checks of one annotation file: schema, its document's SHA-256, and every span's offsets, text, id and references."""

from __future__ import annotations

from itertools import chain, repeat
from operator import itemgetter, lt
from typing import Any

from ..layers import CHAIN_FIELD, LAYERS, REFERENCE_FIELDS
from ..report import Problem, Report, pointer, short
from ..schema import Schemas
from .chains import check_chains
from .overlaps import check_overlaps
from .schema_problems import schema_problems, whole_float_problems
from .span_text import check_offsets


def check_annotation_data(schemas: Schemas, data: Any, rel: str, doc_id: str,
                          text: str | None, sha: str | None, report: Report, *, fast: bool = True) -> None:
    """Every check of one annotation file's parsed content, against its document's text and SHA-256.

    Importers call this on what they are about to write, so nothing invalid reaches the disk.
    ``fast=False``: see :func:`chipwar.validation.run.validate_corpus`.
    """
    check_annotation(schemas, data, rel, doc_id, text, sha, report, fast)


def check_annotation(schemas: Schemas, data: Any, rel: str, doc_id: str,
                     text: str | None, sha: str | None, report: Report, fast: bool) -> bool:
    """:func:`check_annotation_data`; returns whether the file passed the schema.

    Offsets written as floats pass the schema; they are reported with the spans (by
    :func:`_check_spans`, whose fast path checks the offsets' types before anything else),
    or here when the spans cannot be checked against a text.
    """
    problems = schema_problems(schemas, schemas.annotations_validator, data, rel, doc_id)
    report.extend(problems)
    if not isinstance(data, dict) or (problems and problems[0].code == "too_deep"):
        return False
    if data.get("doc_id") != doc_id:
        report.add(Problem("doc_id_mismatch", "annotation file's doc_id differs from its file name", rel, doc_id, pointer=pointer("doc_id"),
                           expected=repr(doc_id), found=short(data.get("doc_id")), hint="the file name stem is the document id; make them equal"))
    if text is None or data.get("text_sha256") != sha:
        report.extend(whole_float_problems("annotations", data, rel, doc_id))
        if text is not None:
            report.add(Problem("stale_annotations", "annotations were made against a different text than the document has now", rel, doc_id,
                               pointer=pointer("text_sha256"), expected=sha, found=short(data.get("text_sha256")),
                               hint="restore the document's text, or re-anchor these annotations onto the new text and update text_sha256"))
        return not problems
    canonical = _check_canonical(data, rel, doc_id, report)
    _check_spans(data, text, rel, doc_id, canonical, report, fast=fast and not problems)
    if not problems:
        check_chains(data, text, rel, doc_id, canonical, report)
        if not report.errors:
            check_overlaps(data, rel, doc_id, report)
    return not problems


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
                               pointer("canonical_entities", i, "id"), expected="unique canonical ids", found=short(cid),
                               hint="merge the two records into one, or give this one a new id and point its spans at it"))
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
    report.extend(whole_float_problems("annotations", data, rel, doc_id))
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
                check_offsets((layer, i), sid, start, end, surface, text, n, rel, doc_id, report)
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
            if layer == "claims" and not _INT.issuperset(
                    type(cue[end]) for claim in spans for link in claim[CHAIN_FIELD] if (cue := link["cue"]) for end in ("start", "end")):
                return False  # a cue offset written as a float: the loop's whole-float check reports it
            ids += layer_ids
            for getter, is_list in _REFERENCE_GETTERS[layer]:
                refs = map(getter, spans)
                if not canonical.issuperset(chain.from_iterable(refs) if is_list else filter(None, refs)):
                    return False
        return len(set(ids)) == len(ids)
    except (KeyError, TypeError, AttributeError, IndexError):
        return False
