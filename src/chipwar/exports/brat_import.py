"""Reading a brat folder back into an annotation set (``chipwar import brat DIR --annotator NAME``).

The lines are read as :mod:`.brat` writes them (its docstring is the encoding). Nothing in the
folder is trusted: every line is matched whole, every offset checked against the corpus's text
(a span whose offsets count UTF-16 units, as JavaScript tools write them after an emoji, is
repaired when that is unambiguous, and reported), a ``.txt`` that differs from the corpus
refuses its document, and a span split into fragments may skip only line breaks and tabs
(chipwar's spans are contiguous). Lines may come in any order; a span's id is its
``ChipwarId`` note, and a span drawn in brat gets ``<doc>:<layer prefix>-<its T id>``.
From the folder the import takes what an annotator can change in brat: spans, types,
attributes, normalizations, relations and notes, plus the document labels of ``chipwar.json``.
Provenance, decisions and canonical records come from the repository, as for a Label Studio
import (:mod:`chipwar.labelstudio.importer`): from the set's existing file, and from the
exported set's file when its SHA-256 is still the one ``chipwar.json`` records. A span that
comes back unchanged keeps its provenance; a new or changed one is the annotator's
(``origin: import``, ``created`` null: brat records no time).

Every file is validated as ``chipwar validate`` would before anything is written, all at
once; a problem names the ``.ann`` file and line (``doc.ann#/line/12``), the document and the
span, and what to do. An existing file that differs is a conflict unless ``replace``.
"""

from __future__ import annotations

import hashlib
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..corpus import Corpus
from ..errors import EnvironmentProblem, UsageError
from ..files import loads_json, sha256_text
from ..ids import check_doc_id, check_set_name
from ..labelstudio.entities import canonical_registry
from ..labelstudio.importer import ImportResult, write_import
from ..labelstudio.links import order_restates
from ..labelstudio.records import base_spans, read_existing, same_record
from ..labelstudio.tasks import read_document_text
from ..layers import (
    CHAIN_FIELD,
    CHAIN_KIND_DEF,
    DOCUMENT_LABELS,
    LAYER_ATTRIBUTES,
    LAYER_BOOL_FIELDS,
    LAYER_ID_PREFIX,
    LAYER_SPAN_DEF,
    LAYERS,
    REFERENCE_FIELDS,
    REFERENCE_ROLES,
    RESTATES_FIELD,
    referenced_ids,
)
from ..offsets import OffsetError, utf16_to_cp
from ..report import Problem, Report, pointer, short
from ..schema import Schemas, load_schemas
from ..validation.annotations import check_annotation_data
from ..writer import NOT_A_FILE, current, reading
from .brat import BREAKS, CUE, CUE_KIND, DB, ID_NOTE, IS, NOTE, REFERENCE, RESTATES, SIDECAR, span_types, unescape_note

#: Largest ``.ann`` or ``.txt`` file read (the corpus's longest article is a few kB).
MAX_BYTES = 32 * 1024 * 1024
_N = r"\d{1,12}"
LINES = {
    "T": re.compile(rf"(T{_N})\t(\S+) ({_N} {_N}(?:;{_N} {_N})*)\t(.*)"),
    "A": re.compile(rf"([AM]{_N})\t(\S+) (T{_N})(?: (\S+))?"),
    "R": re.compile(rf"(R{_N})\t(\S+) Arg1:(T{_N}) Arg2:(T{_N})"),
    "N": re.compile(rf"(N{_N})\t(\S+) (T{_N}) ([^\s:]+):(\S+)(?:\t.*)?"),
    "#": re.compile(rf"(#\d{{0,12}})\t(\S+) (T{_N})\t(.*)"),
}
LINES["M"] = LINES["A"]
_SOURCE = re.compile(r"source-([1-9]\d{0,2})")
_UNCUED = re.compile(r"source_([1-9]\d{0,2})_kind")
HINT = "fix the line in brat (or in the .ann file), then import again"
#: Relation name -> (layer it goes from, the field it fills, whether that is a list): ``claimant``, ``target``, ``speaker``.
ROLE_FIELDS = {REFERENCE_ROLES[name]: (layer, name, is_list) for layer, fields in REFERENCE_FIELDS.items()
               for name, is_list in fields.items() if name in REFERENCE_ROLES}


@dataclass
class _Span:
    """A text-bound line read and checked: a span of a layer, or a cue (``layer`` None)."""

    line: int
    layer: str | None
    label: str
    start: int
    end: int
    attrs: dict[str, str | bool] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    canonical: str | None = None
    data: dict[str, Any] | None = None


class _Doc:
    """One document's ``.ann`` read into an annotation file; problems go to ``report``."""

    def __init__(self, schemas: Schemas, doc_id: str, text: str, rel: str, report: Report, notices: list[str],
                 repaired: list[str]) -> None:
        self.schemas, self.doc_id, self.text, self.rel, self.report = schemas, doc_id, text, rel, report
        self.notices, self.repaired = notices, repaired
        self.types = span_types(schemas)
        self.spans: dict[str, _Span] = {}
        self.links: list[tuple[int, str, str, str | None, str | None]] = []  # line, label, from T, to T or None, to canonical id
        self.cue_entity: dict[str, str] = {}
        self.refused: set[str] = set()  # T lines reported: the lines referring to them say nothing more
        self.handlers = {"T": self._textbound, "A": self._attribute, "M": self._attribute, "R": self._relation,
                         "N": self._normalization, "#": self._note}

    def problem(self, code: str, message: str, line: int | None = None, *, span: str | None = None, expected: str | None = None,
                found: str | None = None, hint: str | None = HINT) -> None:
        self.report.add(Problem(code, message, self.rel, self.doc_id, span, pointer("line", line) if line else "", expected,
                                found, hint))

    # ---------------------------------------------------------------- lines

    def read(self, ann: str) -> None:
        """Match every line whole and take what it says; a line that is not one chipwar reads is a problem, never skipped.
        Text-bound lines are taken first, so that a line may refer to a span written below it (brat keeps no order)."""
        seen: set[str] = set()
        matched: list[tuple[int, str, re.Match[str]]] = []
        for n, line in enumerate(ann.split("\n"), 1):
            line = line.removesuffix("\r")  # an .ann saved with Windows line ends; no span text holds a CR
            if not line.strip():
                continue
            kind = line[0]
            match = LINES[kind].fullmatch(line) if kind in LINES else None
            if kind in "E*":
                self.problem("unsupported_annotation", "events and equivalences have no place in chipwar's "
                             "annotations", n, found=short(line), hint="delete the line (chipwar's spans, attributes and "
                             "relations are those of annotation.conf)")
            elif match is None:
                self.refused.add(line.partition("\t")[0])
                self.problem("bad_ann_line", "the line is not a brat annotation of the kinds chipwar writes", n, found=short(line),
                             expected="T, A, R, N or # lines as in the brat standoff format")
            elif match[1] in seen and kind != "#":
                self.problem("duplicate_id", f"the id {match[1]} is given twice", n, found=short(line))
            else:
                seen.add(match[1])
                matched.append((n, kind, match))
        for n, kind, match in sorted(matched, key=lambda item: item[1] != "T"):  # stable: file order within each pass
            self.handlers[kind](n, match)

    def _textbound(self, n: int, m: re.Match[str]) -> None:
        """A text-bound line."""
        tid, type_name, where, surface = m[1], m[2], m[3], m[4]
        self.refused.add(tid)
        if type_name != CUE and type_name not in self.types:
            self.problem("unknown_type", f"{type_name!r} is no span type of annotation.conf", n, found=short(type_name),
                         expected="a type of the export's annotation.conf (e.g. ORG, Claim_numerical, Cue)")
            return
        frags = [tuple(int(x) for x in pair.split(" ")) for pair in where.split(";")]
        frags = self._offsets(n, frags, surface)
        if frags is None:
            return
        self.refused.discard(tid)
        layer, label = self.types.get(type_name, (None, CUE))
        self.spans[tid] = _Span(n, layer, label, frags[0][0], frags[-1][1])

    def _offsets(self, n: int, frags: list[tuple[int, ...]], surface: str) -> list[tuple[int, ...]] | None:
        """The fragments in code points, checked: in order, inside the text, their text the line's, apart only by line breaks."""
        def shown(fs: list[tuple[int, ...]]) -> str | None:
            if any(not 0 <= s < e <= len(self.text) for s, e in fs) or any(a[1] > b[0] for a, b in zip(fs, fs[1:], strict=False)):
                return None
            return " ".join(self.text[s:e] for s, e in fs)

        if shown(frags) != surface:
            try:
                fixed = [tuple(utf16_to_cp(self.text, x) for x in f) for f in frags]
            except OffsetError:
                fixed = None
            if fixed is None or shown(fixed) != surface:
                at = shown(frags)
                self.problem("offset_text_mismatch", "the span's text is not the document's text at its offsets, and no "
                             "unambiguous repair exists", n, expected=short(surface),
                             found=short(at) if at is not None else "offsets out of order or outside the text")
                return None
            self.repaired.append(f"{self.rel}#/line/{n}: {short(surface)}: UTF-16 offsets {frags} -> code points {fixed}")
            frags = fixed
        for a, b in zip(frags, frags[1:], strict=False):
            gap = self.text[a[1]:b[0]]
            if BREAKS.sub("", gap):
                self.problem("discontinuous_span", "the span's fragments skip text; chipwar's spans are contiguous", n,
                             expected="fragments apart only by line breaks or tabs", found=short(gap),
                             hint="draw one span over the whole stretch, or one span per part")
                return None
        return frags

    def _attribute(self, n: int, m: re.Match[str]) -> None:
        """An attribute line."""
        name, tid, value = m[2], m[3], m[4]
        span = self._target(n, tid)
        if span is None:
            return
        layer = span.layer
        closed = (LAYER_ATTRIBUTES.get(layer, {}).get(name) if layer else CHAIN_KIND_DEF if name == CUE_KIND else None) \
            or (CHAIN_KIND_DEF if layer == "claims" and _UNCUED.fullmatch(name) else None)
        binary = layer is not None and name in LAYER_BOOL_FIELDS[layer]
        what = f"{layer or 'cue'} {span.label}"
        if not closed and not binary:
            self.problem("attribute_wrong_layer", f"{name!r} is no attribute of a {what} span", n,
                         expected="an attribute annotation.conf allows on this type", found=short(name))
        elif binary and value is not None:
            self.problem("bad_value", f"{name} is a binary attribute and takes no value", n, expected=f"'{name} {tid}'",
                         found=short(value))
        elif closed and value not in self.schemas.label_names(closed):
            self.problem("bad_value", f"{name} has no value {value!r}", n, found=short(value),
                         expected=", ".join(self.schemas.label_names(closed)))
        elif name in span.attrs:
            self.problem("several_values", f"{name} is given twice on {tid}", n, hint="keep one")
        else:
            span.attrs[name] = True if binary else value  # type: ignore[assignment]

    def _relation(self, n: int, m: re.Match[str]) -> None:
        """A relation line."""
        if self._target(n, m[3]) is not None and self._target(n, m[4]) is not None:
            self.links.append((n, m[2], m[3], m[4], None))

    def _normalization(self, n: int, m: re.Match[str]) -> None:
        """A normalization line: a mention's canonical id, or a reference to an entity the document does not mention."""
        label, tid, db, cid = m[2], m[3], m[4], m[5]
        span = self._target(n, tid)
        if span is None:
            return
        if db != DB:
            self.notices.append(f"{self.rel}#/line/{n}: a link to {short(db)} is not imported (knowledge-base links live in "
                                "the repository's canonical records)")
        elif label != REFERENCE:
            self.links.append((n, label, tid, None, cid))
        elif span.layer != "entities":
            self.problem("bad_normalization", "only an entity mention has a canonical id", n, found=f"{label} on {tid}")
        elif span.canonical not in (None, cid):
            self.problem("several_values", f"{tid} has two canonical ids", n, found=f"{span.canonical} and {cid}", hint="keep one")
        else:
            span.canonical = cid

    def _note(self, n: int, m: re.Match[str]) -> None:
        """A note line: the span's id, or its note."""
        kind, tid, value = m[2], m[3], m[4]
        span = self._target(n, tid)
        if span is None:
            return
        if kind == ID_NOTE and span.layer is not None:
            span.ids.append(value)
        elif kind == NOTE and span.layer is not None:
            span.notes.append(unescape_note(value))
        else:
            self.problem("bad_note", f"a {kind} note has no place on a {span.layer or 'cue'} span", n, found=short(kind),
                         expected=f"{NOTE} or {ID_NOTE} on a span of a layer")

    def _target(self, n: int, tid: str) -> _Span | None:
        span = self.spans.get(tid)
        if span is None and tid not in self.refused:
            self.problem("dangling_reference", f"the line refers to {tid}, which is no span of this file", n)
        return span

    # ---------------------------------------------------------------- spans

    def build(self, provenance: dict, bases: list[dict], registry: dict[str, dict], listed: list[str]) -> dict[str, Any] | None:
        """The annotation file's layers and canonical records, or None after reporting why."""
        before = len(self.report.errors)
        out: dict[str, list[dict]] = {layer: [] for layer in LAYERS}
        given: dict[str, str] = {}
        for tid, span in self.spans.items():
            if span.layer is None:
                continue
            sid = self._span_id(tid, span)
            if sid in given:
                self.problem("duplicate_span_id", f"span id {sid} is given to {given[sid]} and {tid}", span.line, span=sid,
                             hint="give each span its own ChipwarId note, or none (a new span)")
                continue
            given[sid] = tid
            if len(span.notes) > 1:
                self.problem("several_values", f"{tid} has {len(span.notes)} notes", span.line, span=sid, hint="keep one")
            span.data = self._span(span, sid, provenance)
            out[span.layer].append(span.data)
        cues = self._references()
        self._chains(cues)
        if len(self.report.errors) > before:
            return None
        for layer in LAYERS:
            out[layer].sort(key=lambda s: (s["start"], -s["end"], s["label"]))
        order_restates(out["claims"])
        known = [base_spans(base) for base in bases]
        for span_data in (s for layer in LAYERS for s in out[layer]):
            old = next((b[span_data["id"]] for b in known if span_data["id"] in b and same_record(b[span_data["id"]], span_data)), None)
            if old is not None and "provenance" in old:
                span_data["provenance"] = old["provenance"]
        records = {**registry, **{r["id"]: r for base in reversed(bases) for r in base.get("canonical_entities") or ()
                                  if isinstance(r, dict) and isinstance(r.get("id"), str)}}
        canonical = self._canonical(out, records, listed)
        return None if len(self.report.errors) > before else {**out, "canonical_entities": canonical}

    def _span_id(self, tid: str, span: _Span) -> str:
        if span.ids:
            if len(set(span.ids)) > 1:
                self.problem("several_values", f"{tid} has {len(span.ids)} {ID_NOTE} notes", span.line, hint="keep one")
            return span.ids[0]
        sid = f"{self.doc_id}:{LAYER_ID_PREFIX[span.layer]}-{tid}"  # type: ignore[index]
        self.notices.append(f"{self.rel}#/line/{span.line}: new span {tid} ({span.layer} {span.label}) becomes {sid}")
        return sid

    def _span(self, span: _Span, sid: str, provenance: dict) -> dict[str, Any]:
        """A span in the schema's field order: attributes from its A lines, references filled in later."""
        layer = span.layer or ""
        given = {"id": sid, "start": span.start, "end": span.end, "text": self.text[span.start:span.end], "label": span.label,
                 "provenance": dict(provenance), "note": span.notes[0] if span.notes else None, "canonical_id": span.canonical}
        out: dict[str, Any] = {}
        for name, prop in self.schemas.annotations["$defs"][LAYER_SPAN_DEF[layer]]["properties"].items():
            if name in given:
                out[name] = given[name]
            elif name in LAYER_BOOL_FIELDS[layer]:
                out[name] = bool(span.attrs.get(name))
            elif prop.get("type") == "array":
                out[name] = []
            else:
                out[name] = span.attrs.get(name)
        return out

    def _references(self) -> dict[str, dict[int, tuple[int, str | None, str | None]]]:
        """Apply the relations and role normalizations; the chain links drawn, per claim T: position -> (line, cue T, entity)."""
        chains: dict[str, dict[int, tuple[int, str | None, str | None]]] = {}
        for n, label, src_t, dst_t, cid in self.links:
            src, dst = self.spans[src_t], self.spans[dst_t] if dst_t else None
            if any(s is not None and s.layer is not None and s.data is None for s in (src, dst)):
                continue  # a span it joins was refused, and reported
            if dst is not None and dst.layer == "entities":
                cid = dst.canonical
                if cid is None:
                    self.problem("bad_relation", f"the {label!r} relation points at a mention without a canonical id", n,
                                 hint=f"give {dst_t} a Reference normalization ({DB}:<canonical id>)")
                    continue
            source = _SOURCE.fullmatch(label)
            if label in ROLE_FIELDS and src.layer == ROLE_FIELDS[label][0] and cid is not None:
                _, name, is_list = ROLE_FIELDS[label]
                data = src.data or {}
                if is_list:
                    if cid not in data[name]:
                        data[name].append(cid)
                elif data[name] not in (None, cid):
                    self.problem("several_values", f"{src_t} has two {label!r} references", n, found=f"{data[name]} and {cid}",
                                 hint="keep one")
                else:
                    data[name] = cid
            elif source and src.layer == "claims" and (cid is not None or (dst is not None and dst.layer is None)):
                pos = int(source[1])
                link = (n, dst_t if dst is not None and dst.layer is None else None, cid if dst is None or dst.layer else None)
                if chains.setdefault(src_t, {}).setdefault(pos, link)[1:] != link[1:]:
                    self.problem("several_values", f"{src_t} has two {label!r} links", n, hint="number the chain's sources "
                                 "source-1 (the original source), source-2, … once each")
            elif label == IS and src.layer is None and cid is not None:
                if self.cue_entity.setdefault(src_t, cid) != cid:
                    self.problem("several_values", f"cue {src_t} has two 'is' references", n, hint="keep one")
            elif label == RESTATES and src.layer == "claims" and dst is not None and dst.layer == "claims":
                one, other = src.data or {}, dst.data or {}
                for a, b in ((one, other), (other, one)):
                    if b["id"] not in a[RESTATES_FIELD] and a is not b:
                        a[RESTATES_FIELD].append(b["id"])
            else:
                self.problem("bad_relation", f"no {label!r} relation goes from a {src.layer or 'cue'} span to "
                             f"{'a ' + (dst.layer or 'cue') + ' span' if dst else 'an entity'}", n, found=short(label),
                             expected="a relation of annotation.conf between the types it names")
        return chains

    def _chains(self, chains: dict[str, dict[int, tuple[int, str | None, str | None]]]) -> None:
        """Each claim's attribution chain from its ``source-N`` links and ``source_N_kind`` attributes, positions 1.. without gaps."""
        used: set[str] = set()
        for tid, span in self.spans.items():
            if span.layer != "claims" or span.data is None:
                continue
            links = dict(chains.get(tid, {}))
            for name in span.attrs:
                if (m := _UNCUED.fullmatch(name)) and int(m[1]) not in links:
                    links[int(m[1])] = (span.line, None, None)
            chain = []
            for pos in range(1, max(links, default=0) + 1):
                line, cue_t, cid = links.get(pos, (span.line, None, None))
                uncued = span.attrs.get(f"source_{pos}_kind")
                if pos not in links:
                    self.problem("chain_gap", f"the chain of {tid} has no source-{pos}", line, span=span.data["id"],
                                 hint="number the claim's sources from source-1 without gaps")
                    continue
                if cue_t is not None:
                    used.add(cue_t)
                    kind = self.spans[cue_t].attrs.get(CUE_KIND)
                    if uncued is not None and uncued != kind:
                        self.problem("several_values", f"source-{pos} of {tid} has a cue of kind {kind} and a "
                                     f"source_{pos}_kind {uncued}", line, hint="give the kind on the cue only")
                    cid = self.cue_entity.get(cue_t)
                    cue = self.spans[cue_t]
                    where = {"start": cue.start, "end": cue.end, "text": self.text[cue.start:cue.end]}
                else:
                    kind, where = uncued, None
                if kind is None:
                    self.problem("source_without_kind", f"source-{pos} of {tid} has no kind", line, span=span.data["id"],
                                 hint=f"set {CUE_KIND} on its cue, or source_{pos}_kind on the claim")
                    continue
                chain.append({"kind": kind, "entity_id": cid, "cue": where})
            span.data[CHAIN_FIELD] = chain
        for tid, span in self.spans.items():
            if span.layer is None and tid not in used:
                self.problem("unlinked_cue", f"cue {tid} is no link of any claim's chain", span.line,
                             hint="draw a source-N relation from its claim to it, or delete the cue")

    def _canonical(self, spans: dict[str, list[dict]], records: dict[str, dict], listed: list[str]) -> list[dict]:
        """A record per canonical id the spans use or ``chipwar.json`` lists (a file may keep records no span uses), sorted:
        the repository's, else a new one from its first mention (noticed); an id that only a reference names, unknown to
        the repository, is a problem (its name and label are nowhere)."""
        first: dict[str, dict | None] = {cid: None for cid in listed if cid in records}
        for ent in spans["entities"]:
            if isinstance(ent.get("canonical_id"), str):
                first.setdefault(ent["canonical_id"], ent)
        for layer in LAYERS:
            for span in spans[layer]:
                for _, cid in referenced_ids(layer, span):
                    first.setdefault(cid, None)
        made = []
        for cid, ent in sorted(first.items()):
            if cid in records:
                made.append(records[cid])
            elif ent is None:
                self.problem("unknown_canonical_id", f"canonical id {short(cid)} is referred to, but no mention has it and the "
                             "repository has no record of it", None, expected="an existing canonical id, or a mention with it",
                             found=short(cid), hint=f"add a mention of it with a Reference normalization ({DB}:{cid}), or refer "
                             "to an existing one")
            else:
                self.notices.append(f"{self.rel}: new canonical entity {short(cid)} (name {short(ent['text'])}, label "
                                    f"{ent['label']}); check its record")
                made.append({"id": cid, "name": ent["text"], "label": ent["label"], "kb_ids": []})
        return made


# -------------------------------------------------------------------- the folder


def _read(path: Path, rel: str, doc_id: str | None, report: Report) -> str | None:
    """A regular file's UTF-8 text, bounded; None after reporting why not."""
    try:
        info = path.lstat()
    except OSError:
        report.add(Problem("missing_file", "the file is missing", rel, doc_id, hint="a brat document is a .txt and an .ann "
                           "of the same name: export the folder again, or copy the .txt beside the .ann"))
        return None
    why = ("is a link or not a regular file" if not stat.S_ISREG(info.st_mode) else
           f"is larger than {MAX_BYTES // 2**20} MiB" if info.st_size > MAX_BYTES else None)
    if why is None:
        try:
            return path.read_bytes().decode("utf-8")
        except OSError as exc:
            why = f"cannot be read ({exc.strerror})"
        except UnicodeDecodeError as exc:
            why = f"is not UTF-8 (byte {exc.start})"
    report.add(Problem("unreadable_file", f"the file {why}", rel, doc_id, hint="export the folder again from brat"))
    return None


def _sidecar(folder: Path, report: Report) -> dict[str, Any]:
    """``chipwar.json``'s documents (doc id -> record), or {} when it is missing or unusable (a warning)."""
    path = folder / SIDECAR
    if not path.exists():
        return {}
    raw = _read(path, str(path), None, report)
    try:
        data = loads_json(raw) if raw is not None else None
    except ValueError:
        data = None
    docs = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(docs, dict) or not isinstance(data.get("set"), str):  # type: ignore[union-attr]
        report.add(Problem("sidecar_unusable", f"{SIDECAR} is not one `chipwar export brat` writes; document labels and the "
                           "exported set's records are not used", str(path), severity="warning",
                           hint="spans come back as the annotator's own work"))
        return {}
    return {doc: {**rec, "set": data["set"]} for doc, rec in docs.items() if isinstance(rec, dict)}  # type: ignore[index]


def _bases(corpus: Corpus, annotator: str, doc_id: str, sha: str, existing: bytes | None, carried: dict, rel: str,
           report: Report) -> list[dict]:
    """The repository files whose provenance, decisions and records the import keeps: the set's own, then the exported set's
    when its SHA-256 is still the one ``chipwar.json`` records."""
    def parse(raw: bytes | None) -> dict | None:
        try:
            data = loads_json(raw) if raw is not None else None
        except ValueError:
            return None
        return data if isinstance(data, dict) and data.get("doc_id") == doc_id and data.get("text_sha256") == sha else None

    bases = [b for b in (parse(existing),) if b is not None]
    if existing is not None and not bases:
        report.add(Problem("base_unusable", f"annotations/{annotator}/{doc_id}.json exists but is not this document's annotation "
                           "file for its current text; nothing of it is kept", rel, doc_id, severity="warning",
                           hint=f"run `chipwar validate annotations/{annotator}/{doc_id}.json`"))
    source = carried.get("set")
    if not isinstance(source, str) or source == annotator or not carried:
        return bases
    try:
        check_set_name(source)
    except UsageError:
        return bases
    raw = read_existing(corpus.annotation_path(source, doc_id))
    found = hashlib.sha256(raw).hexdigest() if raw is not None else None
    if found != carried.get("annotations_sha256"):
        report.add(Problem("source_unverified", f"the folder was exported from annotations/{source}/{doc_id}.json as it was "
                           "then, and the repository's copy differs now; its provenance, decisions and canonical records are "
                           "not used", rel, doc_id, severity="warning", hint=f"spans come back as {annotator}'s own work"))
        return bases
    return bases + [b for b in (parse(raw),) if b is not None]


def plan_import(corpus: Corpus, folder: Path, annotator: str, *, kind: str = "person") -> ImportResult:
    """The annotation files a brat folder makes for ``annotations/<annotator>/``, validated, unwritten."""
    check_set_name(annotator)
    if not folder.is_dir():
        raise EnvironmentProblem(f"{folder}: no such folder", hint="pass the brat collection folder (it holds .ann and .txt files)")
    schemas = load_schemas(corpus.schema_dir)
    result = ImportResult()
    report = result.report
    try:
        names = sorted(p.name for p in folder.iterdir())
    except OSError as exc:
        raise EnvironmentProblem(f"{folder}: cannot be listed ({exc.strerror})", hint="check the folder's permissions") from None
    stems = [n[:-4] for n in names if n.endswith(".ann")]
    if not stems:
        raise UsageError(f"{folder}: holds no .ann file; there is nothing to import", hint="pass a folder `chipwar export brat` made")
    sidecar = _sidecar(folder, report)
    with reading(corpus.root):
        doc_ids = set(corpus.doc_ids())
        registry = canonical_registry(corpus)
        for stem in stems:
            rel = str(folder / f"{stem}.ann")
            try:
                doc_id = check_doc_id(stem)
            except UsageError:
                report.add(Problem("bad_doc_id", "the file name is no document id", rel, found=short(stem),
                                   hint="name each .ann after its document (reg-2023-qiming.ann)"))
                continue
            if doc_id not in doc_ids:
                report.add(Problem("missing_document", f"document {doc_id!r} has no text in corpus/", rel, doc_id,
                                   hint="intake the document first, or import into the right corpus"))
                continue
            text, ann = _read(folder / f"{stem}.txt", rel[:-4] + ".txt", doc_id, report), _read(folder / f"{stem}.ann", rel, doc_id, report)
            if text is None or ann is None:
                continue
            if not ann.strip():
                result.notices.append(f"{rel}: holds no annotation; document {doc_id} is not imported")
                continue
            stored = read_document_text(corpus, doc_id)
            if stored is None:
                report.add(Problem("missing_document", f"document {doc_id!r} has no readable text in corpus/", rel, doc_id,
                                   hint=f"run `chipwar validate corpus/{doc_id}.txt`"))
                continue
            if text != stored:
                report.add(Problem("text_changed", "the folder's text is not the document's text in corpus/", rel[:-4] + ".txt",
                                   doc_id, expected=f"SHA-256 {sha256_text(stored)}", found=f"SHA-256 {sha256_text(text)}",
                                   hint="export the document again; brat never changes a text, so another text was put there"))
                continue
            _plan_document(corpus, schemas, result, doc_id, stored, ann, rel, annotator, kind, sidecar, registry, folder)
    return result


def _plan_document(corpus: Corpus, schemas: Schemas, result: ImportResult, doc_id: str, text: str, ann: str, rel: str,
                   annotator: str, kind: str, sidecar: dict[str, Any], registry: dict[str, dict], folder: Path) -> None:
    """Read, build and validate one document; add its file to the plan."""
    report, sha = result.report, sha256_text(text)
    result.read[corpus.text_path(doc_id)] = text.encode("utf-8")
    path = corpus.annotation_path(annotator, doc_id)
    if path.resolve() != corpus.root.resolve() / "annotations" / annotator / f"{doc_id}.json":
        report.add(Problem("target_is_a_link", "the file to write is, or lies in, a symbolic link", rel, doc_id,
                           found=str(path.resolve()), hint="replace the link with a regular file, or import under another --annotator"))
        return
    existing = result.read[path] = current(path)
    if existing == NOT_A_FILE:
        report.add(Problem("target_not_a_file", "the file to write is not a regular file", rel, doc_id,
                           hint="move it out of the way, or import under another --annotator"))
        return
    carried = sidecar.get(doc_id, {})
    bases = _bases(corpus, annotator, doc_id, sha, existing if isinstance(existing, bytes) else None, carried, rel, report)
    doc = _Doc(schemas, doc_id, text, rel, report, result.notices, result.repaired)
    doc.read(ann)
    provenance = {"agent": annotator, "origin": "import", "created": None}
    listed = carried.get("canonical_ids")
    built = doc.build(provenance, bases, registry, [c for c in listed if isinstance(c, str)] if isinstance(listed, list) else [])
    if built is None:
        return
    labels = carried["document_labels"] if "document_labels" in carried else next(
        (b["document_labels"] for b in bases if "document_labels" in b), None)
    if isinstance(labels, dict):
        labels = {**labels, "provenance": dict(provenance)}
        old = next((b["document_labels"] for b in bases if isinstance(b.get("document_labels"), dict)
                    and same_record(b["document_labels"], labels)), None)
        if old is not None and "provenance" in old:
            labels["provenance"] = old["provenance"]
    data = {"schema_version": schemas.version, "doc_id": doc_id, "text_sha256": sha,
            "annotator": {"name": annotator, "kind": kind, "description": "Annotated in brat; imported with `chipwar import brat`.",
                          "model": None, "given": None, "prepared": None, "submitted": None},
            "document_labels": labels, "canonical_entities": built.pop("canonical_entities"), **built,
            "decisions": next((b["decisions"] for b in bases if isinstance(b.get("decisions"), list)), [])}
    checked = Report()
    check_annotation_data(schemas, data, f"annotations/{annotator}/{doc_id}.json", doc_id, text, sha, checked)
    lines = {s.data["id"]: s.line for s in doc.spans.values() if s.data is not None}
    for problem in checked.problems:
        report.add(_traced(problem, data, lines, rel, str(folder / SIDECAR)))
    if checked.ok:
        result.plan(path, data, existing)


def _traced(problem: Problem, data: dict, lines: dict[str, int], rel: str, sidecar: str) -> Problem:
    """A problem of the file an import would write, pointed at the ``.ann`` line of its span (or at ``chipwar.json``)."""
    parts = problem.pointer.split("/")[1:]
    span = data[parts[0]][int(parts[1])] if parts and parts[0] in LAYERS and len(parts) > 1 and parts[1].isdigit() else None
    if span is not None:
        field_name = "/".join(parts[2:])
        return Problem(problem.code, f"{field_name}: {problem.message}" if field_name else problem.message, rel, problem.doc_id,
                       span.get("id"), pointer("line", lines.get(span.get("id"), 0)), problem.expected, problem.found,
                       f"{HINT} ({problem.hint})" if problem.hint else HINT, problem.severity)
    file = sidecar if parts and parts[0] in ("document_labels", *DOCUMENT_LABELS) else rel
    return Problem(problem.code, problem.message, file, problem.doc_id, problem.annotation_id, problem.pointer, problem.expected,
                   problem.found, problem.hint, problem.severity)


def import_folder(corpus: Corpus, folder: Path, annotator: str, *, kind: str = "person", replace: bool = False) -> ImportResult:
    """Plan the import and write every file at once when there is no error and no conflict (or ``replace``).

    Raises :class:`chipwar.writer.ChangedMeanwhile` when a file it read changed before the write.
    """
    return write_import(corpus, plan_import(corpus, folder, annotator, kind=kind), replace)
