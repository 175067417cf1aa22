"""The figures ``chipwar agree`` reports, as values, and what each one measures (in words, for every output).

Pairwise figures (F1, agreement, Cohen's kappa) are given for every pair of sets and as their
mean over the pairs where they are defined; alpha is computed once over all sets. Every figure
carries its n (spans, pairs, units, values, code points) and is ``None`` where undefined.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from statistics import fmean
from typing import Any, Iterable

from ..report import Problem, Report
from .coefficients import Alpha, UnitizedAlpha, cohen_kappa

#: What each figure measures; shown in the text output and given in the JSON (``measures``).
MEASURES: dict[str, str] = {
    "exact_f1": "spans of two sets paired one to one with identical start and end: 2·pairs / (spans of one set + spans of the other)",
    "overlap_f1": "the same, pairing spans that share a code point, largest overlap first",
    "agreement": "on spans paired by overlap, the share of pairs whose values are equal",
    "kappa": "Cohen's kappa over the same pairs (chance from each set's own distribution of values)",
    "alpha": "Krippendorff's alpha, nominal, over all sets at once, on units of spans matched across sets by overlap (at most one span "
             "per set; a set with no span in a unit is missing data; units with fewer than two values are left out)",
    "u_alpha": "Krippendorff's unitized alpha (αU, 1995/2004) of where the layer's spans lie, labels ignored: how far the sets agree "
               "on which stretches of text are inside a span and where spans begin and end (squared differences of the sections), "
               "against the disagreement expected were the same spans and gaps placed at random; the compared documents are laid "
               "end to end as one continuum, and a set's own overlapping spans are merged first",
    "mean": "pairwise figures are also given as their mean over the pairs of sets where they are defined",
    "no_value": "a pair or unit where no set gives a value (null, empty chain, no ids) is left out of that field",
    "values": "canonical ids are compared as strings; target_ids as sets; restates as the units the restated claims were matched to; "
              "attribution_chain as the sequence of (kind, entity_id), original_source as its first link, kinds as the sequence "
              "of link kinds; cues are the chains' cue spans on claims paired by overlap, paired again by exact offsets or overlap",
    "scale": "1 is perfect agreement and 0 what chance gives (alpha, kappa); None (—) where a figure is not defined",
}


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the defined values; ``None`` when none is."""
    defined = [v for v in values if v is not None]
    return fmean(defined) if defined else None


def f1(matched: int, count_a: int, count_b: int) -> float | None:
    return None if count_a + count_b == 0 else 2 * matched / (count_a + count_b)


@dataclass(frozen=True)
class SpanMatch:
    """Spans (or cues) of one pair of sets paired one to one, exactly and by overlap."""

    sets: tuple[str, str]
    count_a: int
    count_b: int
    exact_matches: int
    overlap_matches: int
    exact_f1: float | None
    overlap_f1: float | None


@dataclass(frozen=True)
class SpanAgreement:
    """Span matching for every pair of sets, and its mean."""

    pairwise: list[SpanMatch]
    mean_exact_f1: float | None
    mean_overlap_f1: float | None


def span_agreement(pairwise: list[SpanMatch]) -> SpanAgreement:
    return SpanAgreement(pairwise, mean(p.exact_f1 for p in pairwise), mean(p.overlap_f1 for p in pairwise))


@dataclass(frozen=True)
class PairAgreement:
    """One field over the paired spans of one pair of sets: n pairs, raw agreement, Cohen's kappa."""

    sets: tuple[str, str]
    pairs: int
    agreement: float | None
    kappa: float | None


def pair_agreement(sets: tuple[str, str], pairs: list[tuple[Any, Any]]) -> PairAgreement:
    agreement = sum(a == b for a, b in pairs) / len(pairs) if pairs else None
    return PairAgreement(sets, len(pairs), agreement, cohen_kappa(pairs))


@dataclass(frozen=True)
class FieldAgreement:
    """One field (a label, attribute or reference): pairwise, their means, and alpha over all sets."""

    kind: str
    pairwise: list[PairAgreement]
    mean_agreement: float | None
    mean_kappa: float | None
    alpha: Alpha


def field_agreement(kind: str, pairwise: list[PairAgreement], alpha: Alpha) -> FieldAgreement:
    return FieldAgreement(kind, pairwise, mean(p.agreement for p in pairwise), mean(p.kappa for p in pairwise), alpha)


@dataclass(frozen=True)
class LayerAgreement:
    """One layer: spans per set, units across sets, span matching, αU, every field, and (claims) the attribution cues."""

    spans: dict[str, int]
    units: int
    matching: SpanAgreement
    u_alpha: UnitizedAlpha
    fields: dict[str, FieldAgreement]
    cues: SpanAgreement | None


@dataclass
class Agreement:
    """Agreement of two or more sets over the documents every set annotated with a file that passes validation."""

    sets: list[str]
    documents: list[str]
    not_in_every_set: dict[str, list[str]]
    layers: dict[str, LayerAgreement]
    document_labels: dict[str, FieldAgreement]
    skipped: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """The pairs of sets pairwise figures are given for, in the order the sets were named."""
        return [(a, b) for i, a in enumerate(self.sets) for b in self.sets[i + 1:]]

    @property
    def report(self) -> Report:
        return Report(problems=self.problems)

    def to_dict(self) -> dict[str, Any]:
        """The figures and what they measure (``problems`` are reported beside them, not inside)."""
        out = {k: v for k, v in asdict(self).items() if k != "problems"}
        return {**out, "pairs": [list(p) for p in self.pairs], "measures": MEASURES}
