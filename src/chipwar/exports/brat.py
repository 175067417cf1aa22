"""brat standoff: a ``.txt`` and an ``.ann`` per document, ``annotation.conf`` from ``schema/``, and ``chipwar.json``.

Offsets are code points, as brat's files count them. brat's browser view counts UTF-16 units,
so after a character above U+FFFF (an emoji) it draws spans shifted (nlplab/brat#1115): the
files stay right, but a span drawn there after an emoji may be stored shifted; check such a
document after annotating it in brat. A span written with UTF-16 offsets and its true text (as
JavaScript tools write them) is repaired by ``chipwar import brat`` when that is unambiguous.

Keeps, line by line (every field the format can hold, read back exactly by ``chipwar import brat``):

- ``T`` each span of every layer; its type is the entity label (``ORG``), or the layer and label
  (``Zone_headline``, ``Claim_numerical``, ``Bias_loaded_language``); a span that crosses a line
  break or a tab is written as fragments around them (brat draws no span across a line);
  attribution cues are ``Cue`` spans;
- ``A`` each attribute with a value (``org_type``, ``certainty``…); ``in_quote`` is a binary
  attribute, present when true; a cue's ``cue_kind`` is its chain link's kind;
- ``N`` ``Reference T1 chipwar:<canonical id>`` for each mention (the text after the tab is
  the canonical entity's name);
- ``R`` ``claimant``, ``target``, ``speaker``: from the claim or marker to the mention of the
  entity nearest it; ``source-N`` from a claim to the cue of its chain's link N (1 = the original
  source), and ``is`` from the cue to a mention of the link's entity; a link without a cue is the
  claim's attribute ``source_N_kind`` plus, when it names an entity, ``source-N`` straight to a
  mention; ``restates`` once per pair of claims. A reference to an entity the document never
  mentions is a normalization with the relation's name instead (``N2 claimant T4 chipwar:acme``);
- ``#`` ``AnnotatorNotes`` a span's note (``\\``, line breaks and tabs escaped as ``\\\\``,
  ``\\n``, ``\\t``, ``\\uXXXX``), and ``ChipwarId`` the span's id, so that ids survive the trip.

``chipwar.json`` holds, per document, the document labels (brat has no document-level
annotation), the ids of the file's canonical records (a file may keep records no span uses) and
the SHA-256 of the exported annotation file, by which the import recognises the set's records.

Cannot hold: provenance, the annotator block, adjudication decisions and canonical records
(names, labels, kb links). They stay in the repository, and an import keeps them for every
span that comes back unchanged.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from ..files import dumps_json
from ..layers import (
    CHAIN_FIELD,
    CHAIN_KIND_DEF,
    LAYER_ATTRIBUTES,
    LAYER_BOOL_FIELDS,
    LAYER_LABEL_SET,
    LAYERS,
    REFERENCE_FIELDS,
    REFERENCE_ROLES,
    RESTATES_FIELD,
)
from ..schema import Schemas
from .formats import ExportDocument, ExportFormat, ExportInput, ExportResult

#: The type prefix of each layer's spans (entities keep their bare OntoNotes label, as brat NER corpora do).
TYPE_PREFIX = {"zones": "Zone_", "entities": "", "claims": "Claim_", "bias_markers": "Bias_"}
CUE = "Cue"
CUE_KIND = "cue_kind"
IS = "is"
RESTATES = "restates"
REFERENCE = "Reference"
#: The normalization database of canonical ids.
DB = "chipwar"
NOTE = "AnnotatorNotes"
ID_NOTE = "ChipwarId"
SIDECAR = "chipwar.json"
CONF = "annotation.conf"
#: Chain positions ``annotation.conf`` declares at least (more when the data has longer chains).
MIN_CHAIN = 5
#: What splits a span into fragments: every line break ``str.splitlines`` knows, and tab (a field separator of ``.ann``).
BREAKS = re.compile("[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]")
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t"}


def source_label(n: int) -> str:
    """The relation from a claim to its chain's link ``n`` (1-based)."""
    return f"source-{n}"


def uncued_kind(n: int) -> str:
    """The claim's attribute giving the kind of its chain's link ``n`` when the link has no cue."""
    return f"source_{n}_kind"


def span_types(schemas: Schemas) -> dict[str, tuple[str, str]]:
    """brat type -> (layer, label), for every label of every layer."""
    return {TYPE_PREFIX[layer] + label: (layer, label)
            for layer in LAYERS for label in schemas.label_names(LAYER_LABEL_SET[layer])}


def fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``[start, end)`` cut around line breaks and tabs: the runs between them."""
    out, at = [], start
    for found in BREAKS.finditer(text, start, end):
        if found.start() > at:
            out.append((at, found.start()))
        at = found.end()
    if at < end:
        out.append((at, end))
    return out


def escape_note(note: str) -> str:
    """A note on one ``.ann`` line: backslash, line breaks and tabs escaped (:func:`unescape_note` reverses it)."""
    return "".join(_ESCAPES.get(ch) or (f"\\u{ord(ch):04x}" if BREAKS.match(ch) else ch) for ch in note)


def unescape_note(line: str) -> str:
    """The note an escaped ``.ann`` note stands for; a backslash before anything else is kept as it is."""
    return re.sub(r"\\(\\|n|t|u[0-9a-fA-F]{4})",
                  lambda m: {"\\": "\\", "n": "\n", "t": "\t"}.get(m[1]) or chr(int(m[1][1:], 16)), line)


class _Ann:
    """The lines of one ``.ann`` file, numbered per kind as brat numbers them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: list[str] = []
        self.counts: dict[str, int] = {}

    def _id(self, kind: str) -> str:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return f"{kind}{self.counts[kind]}"

    def textbound(self, type_name: str, start: int, end: int) -> str:
        tid = self._id("T")
        frags = fragments(self.text, start, end)
        where = ";".join(f"{s} {e}" for s, e in frags)
        self.lines.append(f"{tid}\t{type_name} {where}\t{' '.join(self.text[s:e] for s, e in frags)}")
        return tid

    def attribute(self, name: str, tid: str, value: str | None = None) -> None:
        self.lines.append(f"{self._id('A')}\t{name} {tid}" + (f" {value}" if value is not None else ""))

    def relation(self, label: str, arg1: str, arg2: str) -> None:
        self.lines.append(f"{self._id('R')}\t{label} Arg1:{arg1} Arg2:{arg2}")

    def normalization(self, label: str, tid: str, cid: str, name: str) -> None:
        self.lines.append(f"{self._id('N')}\t{label} {tid} {DB}:{cid}\t{escape_note(name)}")

    def note(self, kind: str, tid: str, value: str) -> None:
        self.lines.append(f"{self._id('#')}\t{kind} {tid}\t{escape_note(value)}")


def to_ann(ann: dict[str, Any], text: str) -> str:
    """The ``.ann`` of one annotation file (see the module docstring for what each line holds)."""
    out = _Ann(text)
    tids: dict[str, str] = {}
    mentions: dict[str, list[dict]] = {}
    names = {r["id"]: r["name"] for r in ann["canonical_entities"]}
    for layer in LAYERS:
        for span in ann[layer]:
            tid = tids[span["id"]] = out.textbound(TYPE_PREFIX[layer] + span["label"], span["start"], span["end"])
            out.note(ID_NOTE, tid, span["id"])
            if span["note"] is not None:
                out.note(NOTE, tid, span["note"])
            for name in LAYER_ATTRIBUTES[layer]:
                if span[name] is not None:
                    out.attribute(name, tid, span[name])
            for name in LAYER_BOOL_FIELDS[layer]:
                if span[name]:
                    out.attribute(name, tid)
            if layer == "entities":
                out.normalization(REFERENCE, tid, span["canonical_id"], names.get(span["canonical_id"], span["text"]))
                mentions.setdefault(span["canonical_id"], []).append(span)

    def refer(span: dict, tid: str, label: str, cid: str) -> None:
        """A relation to the mention of ``cid`` nearest ``span``; a normalization when the document has none."""
        if cid in mentions:
            out.relation(label, tid, tids[min(mentions[cid], key=lambda m: abs(m["start"] - span["start"]))["id"]])
        else:
            out.normalization(label, tid, cid, names.get(cid, cid))

    for layer in LAYERS:
        for span in ann[layer]:
            for name, is_list in REFERENCE_FIELDS[layer].items():
                if name in REFERENCE_ROLES:
                    for cid in (span[name] if is_list else [span[name]] if span[name] is not None else []):
                        refer(span, tids[span["id"]], REFERENCE_ROLES[name], cid)
    cues: dict[tuple, str] = {}
    done: set[frozenset[str]] = set()
    for claim in ann["claims"]:
        tid = tids[claim["id"]]
        for n, link in enumerate(claim[CHAIN_FIELD], 1):
            cue = link["cue"]
            if cue is None:
                out.attribute(uncued_kind(n), tid, link["kind"])
                if link["entity_id"] is not None:
                    refer(claim, tid, source_label(n), link["entity_id"])
                continue
            key = (cue["start"], cue["end"], link["kind"], link["entity_id"])
            if key not in cues:
                cues[key] = out.textbound(CUE, cue["start"], cue["end"])
                out.attribute(CUE_KIND, cues[key], link["kind"])
                if link["entity_id"] is not None:
                    refer(cue, cues[key], IS, link["entity_id"])
            out.relation(source_label(n), tid, cues[key])
        for other in claim[RESTATES_FIELD]:
            pair = frozenset((claim["id"], other))
            if pair not in done and other in tids:
                done.add(pair)
                out.relation(RESTATES, tid, tids[other])
    return "".join(line + "\n" for line in out.lines)


def annotation_conf(schemas: Schemas, chain: int = MIN_CHAIN) -> str:
    """brat's ``annotation.conf`` for this schema: span types by layer, relations, attributes with their values."""
    types = span_types(schemas)
    by_layer = {layer: [t for t, (lay, _) in types.items() if lay == layer] for layer in LAYERS}
    heads = {"zones": "Zone", "entities": "Entity", "claims": "Claim", "bias_markers": "Bias"}
    lines = ["# brat annotation.conf generated by `chipwar export brat` from schema/", "[entities]"]
    for layer in LAYERS:
        lines += [f"!{heads[layer]}", *(f"\t{t}" for t in by_layer[layer])]
    # spans of different layers (and cues) overlap by design; chipwar's validation rules within a layer
    lines += [CUE, "", "[relations]", "<OVERLAP>\tArg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>"]
    entities, claims = "|".join(by_layer["entities"]), "|".join(by_layer["claims"])
    for layer, fields in REFERENCE_FIELDS.items():
        for name in fields:
            if name in REFERENCE_ROLES:
                lines.append(f"{REFERENCE_ROLES[name]}\tArg1:{'|'.join(by_layer[layer])}, Arg2:{entities}")
    lines += [f"{source_label(n)}\tArg1:{claims}, Arg2:{CUE}|{entities}" for n in range(1, chain + 1)]
    lines += [f"{IS}\tArg1:{CUE}, Arg2:{entities}", f"{RESTATES}\tArg1:{claims}, Arg2:{claims}", "", "[events]", "",
              "[attributes]"]
    for layer in LAYERS:
        for name, def_name in LAYER_ATTRIBUTES[layer].items():
            allowed = by_layer[layer] if layer != "entities" else [t for t in by_layer[layer] if _applies(schemas, name, t)]
            lines.append(f"{name}\tArg:{'|'.join(allowed)}, Value:{'|'.join(schemas.label_names(def_name))}")
        lines += [f"{name}\tArg:{'|'.join(by_layer[layer])}" for name in LAYER_BOOL_FIELDS[layer]]
    kinds = "|".join(schemas.label_names(CHAIN_KIND_DEF))
    lines.append(f"{CUE_KIND}\tArg:{CUE}, Value:{kinds}")
    lines += [f"{uncued_kind(n)}\tArg:{claims}, Value:{kinds}" for n in range(1, chain + 1)]
    return "\n".join(lines) + "\n"


def _applies(schemas: Schemas, attribute: str, label: str) -> bool:
    """Whether an entity attribute may be set on a mention of ``label`` (the schema's if/then on the label)."""
    for rule in schemas.annotations["$defs"]["Entity"].get("allOf", ()):
        then = rule.get("then", {}).get("properties", {})
        if attribute in then:
            return rule.get("if", {}).get("properties", {}).get("label", {}).get("const") == label
    return True


def _annotation_sha(inp: ExportInput, doc: ExportDocument) -> str:
    """SHA-256 of the set's annotation file as it is in the repository (the import's proof that the set's records apply)."""
    return hashlib.sha256(inp.corpus.annotation_path(inp.set_name, doc.doc_id).read_bytes()).hexdigest()


def write(inp: ExportInput, folder: Path) -> ExportResult:
    """Write every sound document's ``.txt`` and ``.ann``, ``annotation.conf`` and ``chipwar.json`` into ``folder``."""
    result = ExportResult()
    sidecar: dict[str, Any] = {}
    chain = MIN_CHAIN
    for doc in inp.documents():
        ann = doc.annotations
        (folder / f"{doc.doc_id}.txt").write_bytes(doc.text.encode("utf-8"))
        (folder / f"{doc.doc_id}.ann").write_bytes(to_ann(ann, doc.text).encode("utf-8"))
        result.files += [f"{doc.doc_id}.txt", f"{doc.doc_id}.ann"]
        sidecar[doc.doc_id] = {"text_sha256": ann["text_sha256"], "annotations_sha256": _annotation_sha(inp, doc),
                               "document_labels": ann["document_labels"],
                               "canonical_ids": [r["id"] for r in ann["canonical_entities"]]}
        result.documents += 1
        spans = sum(len(ann[layer]) for layer in LAYERS)
        result.spans += spans
        result.drop("span provenance (restored from the repository on import when unchanged)", spans)
        if ann["decisions"]:
            result.drop("adjudication decisions (kept in the repository)", len(ann["decisions"]))
        chain = max([chain, *(len(c[CHAIN_FIELD]) for c in ann["claims"])])
    (folder / CONF).write_text(annotation_conf(inp.schemas, chain), encoding="utf-8")
    (folder / SIDECAR).write_bytes(dumps_json({"format": "chipwar brat export", "set": inp.set_name, "documents": sidecar}))
    result.files += [CONF, SIDECAR]
    return result


FORMAT = ExportFormat(
    name="brat",
    summary="brat standoff: .txt + .ann per document, annotation.conf; read back with `chipwar import brat`",
    keeps="every span (fragments around line breaks), attributes, canonical ids (normalizations), claimant/target/speaker, "
          "attribution chains with cues, restatements (relations), notes and span ids; document labels in chipwar.json",
    cannot_hold="provenance, the annotator block, adjudication decisions and canonical records (kept in the repository "
                "and restored on import for unchanged spans)",
    write=write,
)
