"""Inter-annotator agreement between two annotation sets, per layer.

For each layer, spans of set A and set B in the same document are matched one to one:

- **exact**: same ``start`` and ``end``;
- **overlap**: any shared code point, matched greedily by the largest overlap first (ties
  by position), each span used at most once.

Span F1 is ``2·matched / (|A| + |B|)`` (symmetric; it equals F1 with either set as the
reference). On overlap-matched pairs the report gives raw label agreement and Cohen's
kappa, and the same for every closed-set attribute of the layer (e.g. a claim's
``sourcing``). Kappa is ``None`` where it does not apply (no pairs, or chance agreement
of 1). Document-level labels are compared per document.

Only files that pass every check ``chipwar validate`` makes of them are compared (annotation
files against their document's text): a document whose file in either set does not pass is
left out, named in ``skipped`` and in ``problems`` with why. When nothing at all is compared,
``problems`` says so (``nothing_compared``): figures over no document are not an agreement.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from .corpus import Corpus
from .layers import DOCUMENT_LABELS, LAYER_ATTRIBUTES, LAYERS
from .report import Problem
from .schema import Schemas, load_schemas

Span = dict[str, Any]


@dataclass
class LabelAgreement:
    """Agreement of one categorical field over matched pairs."""

    pairs: int
    agreement: float | None
    kappa: float | None


@dataclass
class LayerAgreement:
    """Span and label agreement for one layer."""

    layer: str
    count_a: int
    count_b: int
    exact_matches: int
    overlap_matches: int
    exact_f1: float | None
    overlap_f1: float | None
    label: LabelAgreement
    attributes: dict[str, LabelAgreement] = field(default_factory=dict)


@dataclass
class Agreement:
    """Agreement between two sets over the documents both annotated."""

    set_a: str
    set_b: str
    documents: list[str]
    only_in_a: list[str]
    only_in_b: list[str]
    layers: list[LayerAgreement]
    document_labels: dict[str, LabelAgreement]
    skipped: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The figures (``problems`` are reported beside them, not inside)."""
        return {k: v for k, v in asdict(self).items() if k != "problems"}


def cohen_kappa(pairs: Iterable[tuple[Any, Any]]) -> float | None:
    """Cohen's kappa for two raters over paired labels; ``None`` when undefined."""
    pairs = list(pairs)
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(a == b for a, b in pairs) / n
    ca, cb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(ca[k] * cb[k] for k in ca.keys() | cb.keys()) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def label_agreement(pairs: list[tuple[Any, Any]]) -> LabelAgreement:
    """Raw agreement and kappa over paired labels."""
    if not pairs:
        return LabelAgreement(0, None, None)
    return LabelAgreement(len(pairs), sum(a == b for a, b in pairs) / len(pairs), cohen_kappa(pairs))


def match_exact(a: list[Span], b: list[Span]) -> list[tuple[Span, Span]]:
    """One-to-one pairs with identical offsets (first come, first served for duplicates)."""
    free: dict[tuple[int, int], list[Span]] = {}
    for span in b:
        free.setdefault((span["start"], span["end"]), []).append(span)
    pairs = []
    for span in a:
        bucket = free.get((span["start"], span["end"]))
        if bucket:
            pairs.append((span, bucket.pop(0)))
    return pairs


def match_overlap(a: list[Span], b: list[Span]) -> list[tuple[Span, Span]]:
    """One-to-one pairs of overlapping spans, largest overlap first."""
    candidates = []
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            shared = min(x["end"], y["end"]) - max(x["start"], y["start"])
            if shared > 0:
                candidates.append((-shared, x["start"], y["start"], i, j))
    candidates.sort()
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs = []
    for _, _, _, i, j in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append((a[i], b[j]))
    return pairs


def _f1(matched: int, na: int, nb: int) -> float | None:
    return None if na + nb == 0 else 2 * matched / (na + nb)


def agree_sets(corpus: Corpus, set_a: str, set_b: str, schemas: Schemas | None = None) -> Agreement:
    """Compare two annotation sets document by document, over the files that pass validation."""
    from .validation.sound import load_annotations, load_document, readable_files, readable_sets

    schemas = schemas or load_schemas(corpus.schema_dir)
    usable, set_problems = readable_sets(corpus)
    problems = [p for p in set_problems if p.file in (f"annotations/{set_a}", f"annotations/{set_b}")]
    annotated: dict[str, set[str]] = {}
    for set_name in (set_a, set_b):
        ids, listed = readable_files(corpus, corpus.annotations_dir / set_name, ".json") if set_name in usable else ([], [])
        annotated[set_name] = set(ids)
        problems += listed
    docs_a, docs_b = annotated[set_a], annotated[set_b]
    shared, skipped = [], []
    totals = {layer: Counter() for layer in LAYERS}
    label_pairs: dict[str, list] = {layer: [] for layer in LAYERS}
    attr_pairs: dict[str, dict[str, list]] = {layer: {a: [] for a in LAYER_ATTRIBUTES[layer]} for layer in LAYERS}
    doc_pairs: dict[str, list] = {name: [] for name in DOCUMENT_LABELS}
    for doc_id in sorted(docs_a & docs_b):
        doc = load_document(corpus, schemas, doc_id)
        (fa, pa), (fb, pb) = (load_annotations(corpus, schemas, corpus.annotation_path(s, doc_id), doc) for s in (set_a, set_b))
        if pa is not None or pb is not None:
            problems += [p for p in (pa, pb) if p is not None]
            skipped.append(doc_id)
            continue
        shared.append(doc_id)
        for layer in LAYERS:
            a, b = fa.get(layer, []), fb.get(layer, [])
            overlap = match_overlap(a, b)
            t = totals[layer]
            t["a"] += len(a)
            t["b"] += len(b)
            t["exact"] += len(match_exact(a, b))
            t["overlap"] += len(overlap)
            label_pairs[layer].extend((x["label"], y["label"]) for x, y in overlap)
            for attr in LAYER_ATTRIBUTES[layer]:
                attr_pairs[layer][attr].extend(
                    (x.get(attr), y.get(attr)) for x, y in overlap if x.get(attr) is not None or y.get(attr) is not None
                )
        la, lb = fa.get("document_labels") or {}, fb.get("document_labels") or {}
        for name in DOCUMENT_LABELS:
            if la.get(name) is not None and lb.get(name) is not None:
                doc_pairs[name].append((la[name], lb[name]))
    if not shared:
        problems.append(_nothing_compared(set_a, set_b, docs_a, docs_b, skipped))
    layers = [
        LayerAgreement(
            layer, t["a"], t["b"], t["exact"], t["overlap"], _f1(t["exact"], t["a"], t["b"]), _f1(t["overlap"], t["a"], t["b"]),
            label_agreement(label_pairs[layer]), {k: label_agreement(v) for k, v in attr_pairs[layer].items()},
        )
        for layer, t in totals.items()
    ]
    return Agreement(set_a, set_b, shared, sorted(docs_a - docs_b), sorted(docs_b - docs_a), layers,
                     {k: label_agreement(v) for k, v in doc_pairs.items()}, skipped, list(dict.fromkeys(problems)))


def _nothing_compared(set_a: str, set_b: str, docs_a: set[str], docs_b: set[str], skipped: list[str]) -> Problem:
    """Why no document was compared: figures over nothing are no agreement, so this is an error, not a silent 0."""
    empty = next((s for s, docs in ((set_a, docs_a), (set_b, docs_b)) if not docs), None)
    if empty is not None:
        return Problem("nothing_compared", f"nothing was compared: annotations/{empty} holds no annotation file that can be read",
                       f"annotations/{empty}", hint=f"annotate documents into annotations/{empty} (e.g. `chipwar labelstudio "
                                                     f"import EXPORT.json --annotator {empty}`), or compare two sets that share documents")
    if skipped:
        return Problem("nothing_compared", f"nothing was compared: every document annotated in both {set_a} and {set_b} "
                       "was left out (listed above)", f"annotations/{set_a}",
                       hint="fix the files listed (`chipwar validate` says what is wrong with each) and run it again")
    return Problem("nothing_compared", f"nothing was compared: no document is annotated in both {set_a} and {set_b}",
                   f"annotations/{set_a}", expected="documents annotated in both sets",
                   found=f"{len(docs_a)} only in {set_a}, {len(docs_b)} only in {set_b}",
                   hint="compare two sets that annotate the same documents")


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def agreement_table(result: Agreement) -> str:
    """A Markdown table: one row per layer, then attribute and document-label rows."""
    rows = [
        f"Agreement between `{result.set_a}` and `{result.set_b}` over {len(result.documents)} document(s).",
        "",
        "| layer | spans A | spans B | exact F1 | overlap F1 | label agreement | label κ |",
        "|---|---|---|---|---|---|---|",
    ]
    for la in result.layers:
        rows.append(f"| {la.layer} | {la.count_a} | {la.count_b} | {_fmt(la.exact_f1)} | {_fmt(la.overlap_f1)} | "
                    f"{_fmt(la.label.agreement)} | {_fmt(la.label.kappa)} |")
    attr_rows = [(la.layer, name, ag) for la in result.layers for name, ag in la.attributes.items()]
    if attr_rows:
        rows += ["", "Attributes, on overlap-matched spans:", "", "| layer | attribute | pairs | agreement | κ |", "|---|---|---|---|---|"]
        rows += [f"| {layer} | {name} | {ag.pairs} | {_fmt(ag.agreement)} | {_fmt(ag.kappa)} |" for layer, name, ag in attr_rows]
    rows += ["", "Document labels:", "", "| label | documents | agreement | κ |", "|---|---|---|---|"]
    rows += [f"| {name} | {ag.pairs} | {_fmt(ag.agreement)} | {_fmt(ag.kappa)} |" for name, ag in result.document_labels.items()]
    return "\n".join(rows) + "\n"
