"""Agreement of two or more annotation sets: which documents are compared, and the figures over them.

Every figure is over the same documents: those for which every named set has a file that
passes every check ``chipwar validate`` makes of it. A document some set lacks is listed in
``not_in_every_set``; one whose file in some set does not pass is left out, named in
``skipped`` and in ``problems`` with why. When nothing is compared, ``problems`` says so
(``nothing_compared``): figures over no document are not an agreement.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from typing import Any, Sequence

from ..corpus import Corpus
from ..errors import UsageError
from ..layers import DOCUMENT_LABELS, LAYERS
from ..report import Problem
from ..schema import Schemas, load_schemas
from .coefficients import nominal_alpha, unitized_alpha
from .fields import cues, empty, layer_fields
from .figures import (
    Agreement,
    FieldAgreement,
    LayerAgreement,
    SpanMatch,
    f1,
    field_agreement,
    pair_agreement,
    span_agreement,
)
from .matching import Span, match_exact, unit_keys, units_by_overlap


def check_sets(corpus: Corpus, sets: Sequence[str]) -> list[str]:
    """The named sets, when there are two or more, all different, all under annotations/; else a usage error."""
    here = corpus.set_names()
    hint = f"sets here: {', '.join(here) or 'none'}"
    if len(sets) < 2:
        raise UsageError(f"agreement needs two or more annotation sets; {len(sets)} given", hint=f"e.g. `chipwar agree pass-1 pass-2 pass-3`; {hint}")
    twice = [name for name, n in Counter(sets).items() if n > 1]
    if twice:
        raise UsageError(f"annotation set {', '.join(map(repr, twice))} named more than once: a set always agrees with itself",
                         hint=f"name each set once; {hint}")
    missing = [name for name in sets if name not in here]
    if missing:
        raise UsageError(f"no annotation set {', '.join(map(repr, missing))} under annotations/", hint=hint)
    return list(sets)


class _LayerTally:
    """Running counts for one layer, document by document."""

    def __init__(self, layer: str, width: int) -> None:
        self.layer, self.width = layer, width
        self.fields = layer_fields(layer)
        self.pairs = list(combinations(range(width), 2))
        self.spans = [0] * width
        self.units = 0
        self.matches = {pair: Counter() for pair in self.pairs}
        self.cues = {pair: Counter() for pair in self.pairs}
        self.paired: dict[str, dict[tuple[int, int], list]] = {f.name: {pair: [] for pair in self.pairs} for f in self.fields}
        self.alpha_units: dict[str, list[list]] = {f.name: [] for f in self.fields}
        self.positions: list[list[tuple[int, int]]] = [[] for _ in range(width)]

    def add(self, spans_by_set: list[list[Span]], offset: int) -> None:
        """One document's spans, one list per set; ``offset`` places it in the continuum of all compared documents."""
        for s, spans in enumerate(spans_by_set):
            self.spans[s] += len(spans)
            self.positions[s] += [(offset + x["start"], offset + x["end"]) for x in spans]
        for s, t in self.pairs:
            self._add_pair((s, t), spans_by_set[s], spans_by_set[t])
        units = units_by_overlap(spans_by_set)
        self.units += len(units)
        keys = unit_keys(units, self.width)
        for f in self.fields:
            for unit in units:
                values = [f.read(span, keys[s]) for s, span in enumerate(unit) if span is not None]
                if not all(map(empty, values)):
                    self.alpha_units[f.name].append(values)

    def merge(self, other: _LayerTally, shift: int) -> None:
        """Add the documents ``other`` tallied after these; ``shift``: where its continuum starts in this one's."""
        self.spans = [a + b for a, b in zip(self.spans, other.spans, strict=True)]
        self.units += other.units
        for pair in self.pairs:
            self.matches[pair].update(other.matches[pair])
            self.cues[pair].update(other.cues[pair])
            for name in self.paired:
                self.paired[name][pair] += other.paired[name][pair]
        for name in self.alpha_units:
            self.alpha_units[name] += other.alpha_units[name]
        for mine, theirs in zip(self.positions, other.positions, strict=True):
            mine += [(a + shift, b + shift) for a, b in theirs]

    def _add_pair(self, pair: tuple[int, int], a: list[Span], b: list[Span]) -> None:
        units = units_by_overlap([a, b])
        matched = [(x, y) for x, y in units if x is not None and y is not None]
        counts = self.matches[pair]
        counts.update(a=len(a), b=len(b), exact=match_exact(a, b), overlap=len(matched))
        keys = unit_keys(units, 2)
        for f in self.fields:
            values = ((f.read(x, keys[0]), f.read(y, keys[1])) for x, y in matched)
            self.paired[f.name][pair] += [(va, vb) for va, vb in values if not (empty(va) and empty(vb))]
        if self.layer == "claims":
            for x, y in matched:
                cx, cy = cues(x), cues(y)
                paired = sum(u[0] is not None and u[1] is not None for u in units_by_overlap([cx, cy]))
                self.cues[pair].update(a=len(cx), b=len(cy), exact=match_exact(cx, cy), overlap=paired)

    def result(self, sets: list[str], continuum: int) -> LayerAgreement:
        names = {pair: (sets[pair[0]], sets[pair[1]]) for pair in self.pairs}
        fields = {f.name: field_agreement(f.kind, [pair_agreement(names[p], self.paired[f.name][p]) for p in self.pairs],
                                          nominal_alpha(self.alpha_units[f.name])) for f in self.fields}
        return LayerAgreement(dict(zip(sets, self.spans, strict=True)), self.units,
                              span_agreement([_span_match(names[p], self.matches[p]) for p in self.pairs]),
                              unitized_alpha(continuum, self.positions), fields,
                              span_agreement([_span_match(names[p], self.cues[p]) for p in self.pairs]) if self.layer == "claims" else None)


def _span_match(sets: tuple[str, str], c: Counter) -> SpanMatch:
    return SpanMatch(sets, c["a"], c["b"], c["exact"], c["overlap"], f1(c["exact"], c["a"], c["b"]), f1(c["overlap"], c["a"], c["b"]))


def _document_labels(sets: list[str], labels: list[list[dict[str, Any]]]) -> dict[str, FieldAgreement]:
    """Each document label compared per document: pairs where both sets label the document, alpha with documents as units."""
    pairs = list(combinations(range(len(sets)), 2))
    out = {}
    for name in DOCUMENT_LABELS:
        per_doc = [[doc[s].get(name) for s in range(len(sets))] for doc in labels]
        pairwise = [pair_agreement((sets[s], sets[t]), [(v[s], v[t]) for v in per_doc if v[s] is not None and v[t] is not None])
                    for s, t in pairs]
        out[name] = field_agreement("label", pairwise, nominal_alpha([[x for x in v if x is not None] for v in per_doc]))
    return out


class SetsTally:
    """The agreement of some sets, tallied document by document in doc-id order, and mergeable: a
    validation run tallies each chunk of documents apart (:mod:`chipwar.generated_facts`) and
    merges the chunks in order, which gives what one pass over all documents gives."""

    def __init__(self, sets: Sequence[str]) -> None:
        self.sets = list(sets)
        self.tallies = {layer: _LayerTally(layer, len(self.sets)) for layer in LAYERS}
        self.labels: list[list[dict[str, Any]]] = []
        self.compared: list[str] = []
        self.missing: dict[str, list[str]] = {}
        self.continuum = 0

    def add(self, doc_id: str, files: list[dict[str, Any]], length: int) -> None:
        """One document every set annotated: its files, one per set, and its text's length."""
        self.compared.append(doc_id)
        for layer, tally in self.tallies.items():
            tally.add([data.get(layer, []) for data in files], self.continuum)
        self.labels.append([data.get("document_labels") or {} for data in files])
        self.continuum += length

    def merge(self, other: SetsTally) -> None:
        """Add the documents ``other`` tallied (all after these in doc-id order)."""
        for layer, tally in self.tallies.items():
            tally.merge(other.tallies[layer], self.continuum)
        self.labels += other.labels
        self.compared += other.compared
        self.missing.update(other.missing)
        self.continuum += other.continuum

    def result(self, skipped: list[str], problems: list[Problem]) -> Agreement:
        return Agreement(self.sets, self.compared, dict(sorted(self.missing.items())),
                         {layer: t.result(self.sets, self.continuum) for layer, t in self.tallies.items()},
                         _document_labels(self.sets, self.labels), skipped, list(dict.fromkeys(problems)))


def agree_sets(corpus: Corpus, sets: Sequence[str], schemas: Schemas | None = None) -> Agreement:
    """Compare two or more annotation sets over the documents every one of them annotated with a file that passes validation."""
    from ..validation.sound import load_annotations, load_document, readable_files, readable_sets

    sets = check_sets(corpus, sets)
    schemas = schemas or load_schemas(corpus.schema_dir)
    usable, set_problems = readable_sets(corpus)
    problems = [p for p in set_problems if p.file in {f"annotations/{s}" for s in sets}]
    annotated: dict[str, set[str]] = {}
    for name in sets:
        ids, listed = readable_files(corpus, corpus.annotations_dir / name, ".json") if name in usable else ([], [])
        annotated[name] = set(ids)
        problems += listed
    every = set.intersection(*annotated.values())
    tally = SetsTally(sets)
    skipped: list[str] = []
    for doc_id in sorted(every):
        doc = load_document(corpus, schemas, doc_id)
        loaded = [load_annotations(corpus, schemas, corpus.annotation_path(name, doc_id), doc) for name in sets]
        bad = [problem for _, problem in loaded if problem is not None]
        if bad:
            problems += bad
            skipped.append(doc_id)
            continue
        tally.add(doc_id, [data for data, _ in loaded], len(doc.text))
    if not tally.compared:
        problems.append(nothing_compared(sets, annotated, skipped))
    tally.missing = {doc_id: [name for name in sets if doc_id in annotated[name]]
                     for doc_id in sorted(set().union(*annotated.values()) - every)}
    return tally.result(skipped, problems)


def nothing_compared(sets: list[str], annotated: dict[str, set[str]], skipped: list[str]) -> Problem:
    """Why no document was compared: figures over nothing are no agreement, so this is an error, not a silent 0."""
    empty_set = next((name for name in sets if not annotated[name]), None)
    if empty_set is not None:
        return Problem("nothing_compared", f"nothing was compared: annotations/{empty_set} holds no annotation file that can be read",
                       f"annotations/{empty_set}", hint=f"annotate documents into annotations/{empty_set} (e.g. `chipwar labelstudio "
                                                        f"import EXPORT.json --annotator {empty_set}`), or compare sets that share documents")
    named = ", ".join(sets)
    if skipped:
        return Problem("nothing_compared", f"nothing was compared: every document annotated in all of {named} was left out (listed above)",
                       f"annotations/{sets[0]}", hint="fix the files listed (`chipwar validate` says what is wrong with each) and run it again")
    return Problem("nothing_compared", f"nothing was compared: no document is annotated in all of {named}", f"annotations/{sets[0]}",
                   expected="documents annotated in every set", found=", ".join(f"{len(annotated[name])} in {name}" for name in sets),
                   hint="compare sets that annotate the same documents")
