"""Synthetic corpora of any size, in the real on-disk layout, for benchmarks and tests.

The real texts are few and copyrighted, yet speed and memory must be measured at 20,000
documents and 500,000 annotations. This writes such a corpus document by document (nothing
is kept from one document to the next), and every file passes the real schema and
``chipwar validate``. Texts put astral emoji (ZWJ sequences, flags), CJK and combining
marks before and inside spans, where code-point offsets go wrong first. Claims carry
attribution chains of up to three links whose cues sit in the claim's own sentence, in
another one, or nowhere (null), and some claims restate each other. No time is invented:
every provenance ``created`` is null, as for any annotation no program timed. The same
seed gives byte-identical files.
"""

from __future__ import annotations

import random
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .files import dumps_json
from .intake import IntakeRequest, build_metadata
from .layers import CHAIN_FIELD, LAYER_ID_PREFIX, LAYERS, NAMED_KINDS, OUTLET_KIND, RESTATES_FIELD, UNNAMED_KINDS, expected_claimant
from .schema import Schemas, load_schemas

Progress = Callable[[int, int], None]

#: The repository's own ``schema/`` (src layout: <repo>/src/chipwar/synthetic.py).
REPO_SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"

#: Share of annotations per layer, roughly as in hand-annotated news.
LAYER_WEIGHTS = {"zones": 1, "entities": 5, "claims": 2, "bias_markers": 2}

#: (canonical id, surface form in the text, label, org_type or gpe_role). Several surface
#: forms hold CJK, a Devanagari vowel sign (a combining mark) or precomposed Latin.
ENTITIES: tuple[tuple[str, str, str, str | None], ...] = (
    ("huawei", "Huawei", "ORG", "company"),
    ("smic", "中芯国际", "ORG", "state_owned_enterprise"),
    ("china", "China", "GPE", "government"),
    ("united-states", "United States", "GPE", "government"),
    ("taiwan", "Taiwan", "GPE", "location"),
    ("shenzhen", "深圳", "GPE", "location"),
    ("commerce-department", "Commerce Department", "ORG", "government"),
    ("asml", "ASML", "ORG", "company"),
    ("viet-silicon", "Việt Silicon", "ORG", "company"),
    ("kiran-rao", "\u0915\u093f\u0930\u0923 Rao", "PERSON", None),
    ("zoe-muller", "Zoë Müller", "PERSON", None),
    ("qiming", "Qiming", "PROGRAM", None),
    ("euv", "extreme ultraviolet lithography", "TECHNOLOGY", None),
    ("chips-act", "CHIPS Act", "LAW", None),
    ("kirin-9000s", "Kirin 9000s", "PRODUCT", None),
    ("chinese", "Chinese", "NORP", None),
)

#: Astral emoji, a ZWJ sequence, flags, CJK and a Devanagari vowel sign, all left alone by NFC.
DECORATIONS = ("😀", "👩\u200d🔬", "🇨🇳", "🇺🇸🇹🇼", "中国芯片", "\u0915\u093f", "半导体 🔬")

#: Words a bias marker can sit on.
LOADED = ("covert", "aggressive", "so-called", "reckless", "heavy-handed", "crippling", "unprecedented", "desperate")

#: Sentences: {A} and {B} are entity mentions, {L} a loaded word, {X} a decoration; ``{[}…{]}``
#: marks an attribution cue naming the entity mentioned inside it, ``{<}…{>}`` one of an unnamed source.
SENTENCES = (
    "{[}{A} said{]} the {L} plan would reshape chip supply chains {X}.",
    "{[}According to {A}{]}, {B} is racing to build a {L} supply of advanced chips.",
    "{A} announced new export controls on {B}, a move {<}critics called{>} {L}.",
    "{<}Analysts expect{>} {A} to double output by 2027 {X} despite pressure from {B}.",
    "Shipments from {A} to {B} fell by a third last quarter, a {L} drop by any measure.",
    "{X} {<}Engineers working with {A} described{>} the effort as {L}.",
    "The {L} push by {A} has drawn comparisons with {B}'s own subsidies.",
    "{A} declined to comment on reports about {B} {X}.",
    "{<}Officials in {A} insist{>} that {B} poses no threat\u2014a claim others find {L}.",
)
#: Every headline starts with q + U+0307 (no precomposed form), so every span but the
#: headline zone sits past a combining mark. It stays out of the body: such a "maybe" character makes CPython's NFC
#: check normalise its whole line, which real news text, with none, never costs (BENCHMARKS.md).
HEADLINE = "Briefing q\u0307: {X} {A} and {B} in the {L} race for chips"
CAPTION = "📷 Photo: a wafer line run by {A} {X}"
BOILERPLATE = "TIP US OFF 🇨🇳 中国芯片 — sign up for the newsletter 😀"

_SLOT = re.compile(r"\{([ABLX\[\]<>])\}")

#: Chain lengths drawn for a claim (0: the author's own claim).
CHAIN_LENGTHS = (0, 0, 0, 1, 1, 1, 2, 2, 3)
#: Kinds of a link whose cue names no entity (``outlet`` only as the first link).
UNNAMED_SOURCES = (*UNNAMED_KINDS, "document")


@dataclass(frozen=True)
class _Cue:
    """An attribution cue in the text; ``entity`` is the index in ENTITIES of the source it names, or None."""

    start: int
    end: int
    entity: int | None


@dataclass
class _Doc:
    """A document's text being built, with every place an annotation may go."""

    rng: random.Random
    parts: list[str] = field(default_factory=list)
    pos: int = 0
    zones: list[tuple[int, int, str]] = field(default_factory=list)
    entities: list[tuple[int, int, int]] = field(default_factory=list)
    #: Claim sentences: start, end, the entities mentioned, and the sentence's own cue (or None).
    claims: list[tuple[int, int, tuple[str, ...], _Cue | None]] = field(default_factory=list)
    bias_markers: list[tuple[int, int, tuple[str, ...]]] = field(default_factory=list)
    cues: list[_Cue] = field(default_factory=list)

    def add(self, s: str) -> tuple[int, int]:
        start = self.pos
        self.parts.append(s)
        self.pos += len(s)
        return start, self.pos

    def fill(self, template: str) -> tuple[int, int, tuple[str, ...], _Cue | None]:
        """Write one templated line or sentence; return its span, the entities in it and its cue."""
        start = self.pos
        ents = self.rng.sample(range(len(ENTITIES)), 2)
        mentioned: list[str] = []
        loaded: list[tuple[int, int]] = []
        cue: _Cue | None = None
        opened, named, inside = 0, False, None
        pieces = _SLOT.split(template)
        for j, piece in enumerate(pieces):
            if j % 2 == 0:
                self.add(piece)
            elif piece in "AB":
                e = ents[piece == "B"]
                s, t = self.add(ENTITIES[e][1])
                self.entities.append((s, t, e))
                mentioned.append(ENTITIES[e][0])
                inside = e if inside is None else inside
            elif piece == "L":
                loaded.append(self.add(self.rng.choice(LOADED)))
            elif piece in "[<":
                opened, named, inside = self.pos, piece == "[", None
            elif piece in "]>":
                cue = _Cue(opened, self.pos, inside if named else None)
                self.cues.append(cue)
            else:
                self.add(self.rng.choice(DECORATIONS))
        refs = tuple(dict.fromkeys(mentioned))
        self.bias_markers.extend((s, t, refs) for s, t in loaded)
        return start, self.pos, refs, cue

    def zone_line(self, template: str, label: str) -> None:
        s, t, _, _ = self.fill(template)
        self.zones.append((s, t, label))

    def paragraph(self) -> None:
        start = self.pos
        for k in range(self.rng.randint(3, 6)):
            if k:
                self.add(" ")
            self.claims.append(self.fill(self.rng.choice(SENTENCES)))
        self.zones.append((start, self.pos, "body"))

    def text(self) -> str:
        return "".join(self.parts)


def write_synthetic_corpus(root: Path, n_docs: int, n_annotations: int, seed: int = 0, set_name: str = "gold",
                           schema_dir: Path | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Write ``n_docs`` documents and ``n_annotations`` spans under ``root``; return a summary.

    ``schema_dir`` (default: this repository's ``schema/``) is copied to ``root/schema`` and
    supplies the label sets, so the data follows the schema. Annotations are spread evenly
    over documents; a document grows past its few thousand characters only when it needs
    more places for its share. Files are written plainly, not atomically: a benchmark
    corpus is disposable, and an fsync per file would dominate the run.
    """
    if n_docs < 0 or n_annotations < 0 or (n_docs == 0 and n_annotations):
        raise ValueError("need n_docs >= 0 and n_annotations >= 0, and documents to hold any annotations")
    schema_dir = schema_dir or REPO_SCHEMA_DIR
    if (root / "corpus").exists() or (root / "annotations").exists():
        raise FileExistsError(f"{root}: already holds a corpus; pick an empty folder")
    schemas = load_schemas(schema_dir)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(schema_dir, root / "schema", dirs_exist_ok=True)
    (root / "corpus").mkdir()
    (root / "annotations" / set_name).mkdir(parents=True)
    (root / "VERSION").write_text("0.0.0\n", "utf-8")  # a dataset version, so `chipwar build` runs on it too
    per_doc, extra = divmod(n_annotations, n_docs) if n_docs else (0, 0)
    layers: Counter[str] = Counter()
    written = 0
    for i in range(n_docs):
        doc_id = f"syn-{i:06d}"
        rng = random.Random(f"chipwar-synthetic:{seed}:{i}")
        text, meta, ann = _document(rng, schemas, doc_id, per_doc + (i < extra), seed)
        for path, data in ((root / "corpus" / f"{doc_id}.txt", text.encode("utf-8")),
                           (root / "corpus" / f"{doc_id}.json", dumps_json(meta)),
                           (root / "annotations" / set_name / f"{doc_id}.json", dumps_json(ann))):
            path.write_bytes(data)
            written += len(data)
        layers.update({layer: len(ann[layer]) for layer in LAYERS})
        if progress:
            progress(i + 1, n_docs)
    return {"root": str(root), "seed": seed, "set": set_name, "documents": n_docs, "annotations": n_annotations,
            "layers": {layer: layers[layer] for layer in LAYERS}, "bytes": written}


def _document(rng: random.Random, schemas: Schemas, doc_id: str, n_spans: int, seed: int) -> tuple[str, dict, dict]:
    """One document's text, metadata and annotation file."""
    want = Counter(rng.choices(LAYERS, weights=[LAYER_WEIGHTS[layer] for layer in LAYERS], k=n_spans))
    doc = _Doc(rng)
    doc.zone_line(HEADLINE, "headline")
    headline = doc.text()
    doc.add("\n")
    doc.zones.append((*doc.add(f"By Synthetic Desk · 2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"), "byline"))
    target = rng.randint(2500, 4500)
    while doc.pos < target or any(len(getattr(doc, layer)) < want[layer] for layer in LAYERS):
        doc.add("\n\n")
        doc.paragraph()
    doc.add("\n\n")
    doc.zone_line(CAPTION, "caption")
    doc.add("\n")
    doc.zones.append((*doc.add(BOILERPLATE), "boilerplate"))
    doc.add("\n")
    text = doc.text()

    req = IntakeRequest(
        received=Path(f"{doc_id}.txt"), doc_id=doc_id, url=f"https://example.org/synthetic/{doc_id}",
        publisher="Synthetic Wire", published=f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", title=headline,
        title_source="text", language="en", genre=rng.choice(schemas.label_names("Genre")),
        rights_statement="Synthetic text generated by chipwar.synthetic for benchmarks; no rights reserved.",
        license="CC0-1.0", redistributable=True, authors=["Synthetic Desk"],
        notes={"synthetic": f"chipwar.synthetic, seed {seed}"}, intake_date="2024-01-01",
    )
    meta = build_metadata(req, text, [])

    def label(def_name: str) -> str:
        return rng.choice(schemas.label_names(def_name))

    def provenance() -> dict[str, Any]:
        return {"agent": "chipwar-synthetic", "origin": "model", "created": None}

    def pick(layer: str) -> list[tuple]:
        return sorted(rng.sample(getattr(doc, layer), want[layer]), key=lambda item: item[:2])

    def span(layer: str, n: int, s: int, t: int, span_label: str, **fields: Any) -> dict[str, Any]:
        return {"id": f"{doc_id}:{LAYER_ID_PREFIX[layer]}{n}", "start": s, "end": t, "text": text[s:t], "label": span_label,
                "provenance": provenance(), "note": None, **fields}

    spans: dict[str, list[dict[str, Any]]] = {layer: [] for layer in LAYERS}
    for n, (s, t, zone) in enumerate(pick("zones"), 1):
        spans["zones"].append(span("zones", n, s, t, zone))
    for n, (s, t, e) in enumerate(pick("entities"), 1):
        cid, _, ent_label, attr = ENTITIES[e]
        spans["entities"].append(span("entities", n, s, t, ent_label, canonical_id=cid,
                                      org_type=attr if ent_label == "ORG" else None, gpe_role=attr if ent_label == "GPE" else None))
    forms = [f for f in schemas.label_names("AttributionForm") if f != "none"]
    for n, (s, t, _, own) in enumerate(pick("claims"), 1):
        chain = _chain(rng, text, own, doc.cues)
        claimant, claimant_id, _ = expected_claimant(chain)
        spans["claims"].append(span(
            "claims", n, s, t, label("ClaimLabel"), check_worthiness=label("CheckWorthiness"), claimant_type=claimant,
            claimant_id=claimant_id, attribution_form=rng.choice(forms) if chain else "none",
            **{CHAIN_FIELD: chain, RESTATES_FIELD: []}, certainty=label("Certainty"),
        ))
    _restatements(rng, spans["claims"])
    for n, (s, t, refs) in enumerate(pick("bias_markers"), 1):
        in_quote = rng.random() < 0.2
        spans["bias_markers"].append(span(
            "bias_markers", n, s, t, label("BiasLabel"), target_ids=list(refs), polarity=label("Polarity"),
            intensity=label("Intensity"), in_quote=in_quote, quote_speaker_id=refs[-1] if in_quote else None,
        ))

    mentioned = sorted({ENTITIES[e] for _, _, e in doc.entities})
    ann = {
        "schema_version": schemas.version,
        "doc_id": doc_id,
        "text_sha256": meta["intake"]["text_sha256"],
        "annotator": {"name": "chipwar-synthetic", "kind": "model",
                      "description": "Synthetic spans from chipwar.synthetic, for benchmarks and tests.",
                      "model": {"name": "chipwar.synthetic", "version": None}, "given": None, "prepared": None, "submitted": None},
        "document_labels": {"genre": label("Genre"), "primary_frame": label("Frame"), "tone": label("Tone"),
                            "provenance": provenance(), "note": None},
        "canonical_entities": [{"id": cid, "name": name, "label": ent_label, "kb_ids": []}
                               for cid, name, ent_label, _ in mentioned],
        **spans,
        "decisions": [],
    }
    return text, meta, ann


def _chain(rng: random.Random, text: str, own: _Cue | None, cues: list[_Cue]) -> list[dict[str, Any]]:
    """An attribution chain of 0-3 links, original source first, each source once.

    The first link takes the claim's own cue when its sentence has one; other links take a cue
    from anywhere in the document (another sentence, as a continued report), and some none.
    """
    chain: list[dict[str, Any]] = []
    used: set[int] = set()
    for k in range(rng.choice(CHAIN_LENGTHS)):
        roll = rng.random()
        cue = own if k == 0 and own is not None and roll < 0.6 else None if roll > 0.85 or not cues else rng.choice(cues)
        if cue is not None and cue.entity is not None and cue.entity not in used:
            used.add(cue.entity)
            cid, _, ent_label, _ = ENTITIES[cue.entity]
            kind, entity = NAMED_KINDS[ent_label != "PERSON"], cid
        else:
            cue = cue if cue is None or cue.entity is None else None  # a source named twice: the repeat is unnamed, uncued
            kind, entity = rng.choice((*UNNAMED_SOURCES, OUTLET_KIND) if k == 0 and cue is None else UNNAMED_SOURCES), None
        chain.append({"kind": kind, "entity_id": entity,
                      "cue": None if cue is None else {"start": cue.start, "end": cue.end, "text": text[cue.start:cue.end]}})
    return chain


def _restatements(rng: random.Random, claims: list[dict[str, Any]]) -> None:
    """Link about one claim in eight with another as restating it, both ways."""
    order = list(range(len(claims)))
    rng.shuffle(order)
    paired = order[:2 * (len(order) // 8)]
    for a, b in zip(paired[::2], paired[1::2], strict=True):
        claims[a][RESTATES_FIELD].append(claims[b]["id"])
        claims[b][RESTATES_FIELD].append(claims[a]["id"])
