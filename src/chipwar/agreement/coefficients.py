"""Agreement coefficients from their definitions: Cohen's kappa, Krippendorff's nominal and unitized alpha.

Each is computed exactly (integers and fractions) and turned into a float at the end; each
is ``None`` where its definition divides by zero (nothing to compare, or one value only).

- Cohen's kappa (Cohen 1960): two raters, chance from each rater's own distribution of values.
- Nominal alpha (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"): any number
  of coders, missing values allowed, from the coincidence matrix.
- Unitized alpha, αU (Krippendorff 1995, "On the reliability of unitizing continuous data",
  Sociological Methodology 25; Krippendorff 2004, *Content Analysis*, 2nd ed.): agreement on
  where units lie in a continuum, for one category.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate, combinations
from typing import Hashable, Iterable, Sequence


def cohen_kappa(pairs: Iterable[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's kappa for two raters over paired values; ``None`` when undefined (no pairs, or chance agreement of 1)."""
    pairs = list(pairs)
    n = len(pairs)
    if n == 0:
        return None
    observed = Fraction(sum(a == b for a, b in pairs), n)
    ca, cb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = Fraction(sum(ca[k] * cb[k] for k in ca.keys() & cb.keys()), n * n)
    if expected == 1:
        return None
    return float((observed - expected) / (1 - expected))


@dataclass(frozen=True)
class Alpha:
    """Krippendorff's nominal alpha and the n behind it.

    ``units`` are the pairable units (two or more values), ``values`` the values in them
    (the coincidence matrix's n); ``observed`` and ``expected`` are the disagreements D_o, D_e.
    """

    value: float | None
    units: int
    values: int
    observed: float | None
    expected: float | None


def nominal_alpha(units: Iterable[Sequence[Hashable]]) -> Alpha:
    """Krippendorff's alpha, nominal metric, over units given as the values coders assigned to each.

    A coder who gave a unit no value is simply absent from its values (missing data). Each
    unit with m ≥ 2 values adds every ordered pair of values of different coders, weighted
    1/(m−1), to the coincidence matrix o; with n_c its row sums and n their total,
    D_o = Σ_{c≠k} o_ck / n, D_e = Σ_{c≠k} n_c·n_k / (n(n−1)), alpha = 1 − D_o/D_e.
    """
    ordered_pairs: Counter = Counter()  # (c, k, m) -> ordered pairs in units of m values, weighted 1/(m−1) below
    pairable = 0
    for values in units:
        m = len(values)
        if m < 2:
            continue
        pairable += 1
        counts = Counter(values)
        for c, nc in counts.items():
            for k, nk in counts.items():
                ordered = nc * (nk - 1) if c == k else nc * nk
                if ordered:
                    ordered_pairs[c, k, m] += ordered
    coincidence: Counter = Counter()
    for (c, k, m), ordered in ordered_pairs.items():
        coincidence[c, k] += Fraction(ordered, m - 1)
    totals: Counter = Counter()
    for (c, _), o in coincidence.items():
        totals[c] += o
    n = sum(totals.values())
    if n == 0:
        return Alpha(None, 0, 0, None, None)
    observed = sum((o for (c, k), o in coincidence.items() if c != k), Fraction(0)) / n
    expected = (n * n - sum(t * t for t in totals.values())) / (n * (n - 1))
    value = None if expected == 0 else float(1 - observed / expected)
    return Alpha(value, pairable, int(n), float(observed), float(expected))


@dataclass(frozen=True)
class UnitizedAlpha:
    """Krippendorff's unitized alpha for one category and the n behind it.

    ``continuum`` is the length L in code points, ``units`` the units of all coders (after
    merging a coder's own overlapping units, counted in ``merged``).
    """

    value: float | None
    observed: float | None
    expected: float | None
    continuum: int
    units: int
    merged: int


Section = tuple[int, int, bool]  # start, end (exclusive), True for a unit and False for a gap


def unitized_alpha(continuum: int, coders: Sequence[Iterable[tuple[int, int]]]) -> UnitizedAlpha:
    """αU of m ≥ 2 coders who each marked units (start, end) on one continuum [0, L).

    Each coder's continuum is cut into sections: its units and the gaps between them. Two
    sections of different coders that overlap differ by δ² = (b_g − b_h)² + (e_g − e_h)² when
    both are units, by l_g² when unit g lies wholly inside gap h (and the reverse), else 0;
    D_o = Σ_{i≠j} Σ_g Σ_h δ² / (m(m−1)L²). D_e is the same disagreement expected when the
    observed units and gaps are placed anywhere (Krippendorff 2004):
    D_e = (2/L)·Σ_units [ (N−1)/3·(2l³−3l²+l) + l²·Σ_{gaps λ ≥ l} (λ − l + 1) ] / (mL(mL−1) − Σ_units l(l−1)),
    N the number of units of all coders, gaps those of all coders. The measure needs a coder's
    units not to overlap, so each coder's overlapping units are first merged into one.
    """
    merged = 0
    sections: list[list[Section]] = []
    for spans in coders:
        units, joined = _merged(spans)
        merged += joined
        sections.append(_sections(continuum, units))
    m, length = len(sections), continuum
    unit_lengths = [e - s for coder in sections for s, e, unit in coder if unit]
    if m < 2 or length == 0 or not unit_lengths:
        return UnitizedAlpha(None, None, None, continuum, len(unit_lengths), merged)
    observed = Fraction(2 * sum(_disagreement(a, b) for a, b in combinations(sections, 2)), m * (m - 1) * length * length)
    gaps = sorted(e - s for coder in sections for s, e, unit in coder if not unit)
    from_here = list(accumulate(reversed(gaps), initial=0))[::-1]  # from_here[k] = sum(gaps[k:])
    n_units = len(unit_lengths)
    numerator = 0
    for unit_len in unit_lengths:
        numerator += (n_units - 1) * unit_len * (unit_len - 1) * (2 * unit_len - 1) // 3  # l(l−1)(2l−1) = 2l³−3l²+l, a multiple of 6
        k = bisect_left(gaps, unit_len)
        numerator += unit_len * unit_len * (from_here[k] - (len(gaps) - k) * (unit_len - 1))
    denominator = length * (m * length * (m * length - 1) - sum(u * (u - 1) for u in unit_lengths))
    expected = Fraction(2 * numerator, denominator) if denominator else Fraction(0)
    value = None if expected == 0 else float(1 - observed / expected)
    return UnitizedAlpha(value, float(observed), float(expected), continuum, n_units, merged)


def _merged(spans: Iterable[tuple[int, int]]) -> tuple[list[tuple[int, int]], int]:
    """A coder's units sorted, overlapping ones joined into their union; and how many joins that took."""
    out: list[list[int]] = []
    joins = 0
    for start, end in sorted(spans):
        if out and start < out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
            joins += 1
        else:
            out.append([start, end])
    return [(s, e) for s, e in out], joins


def _sections(length: int, units: list[tuple[int, int]]) -> list[Section]:
    """The continuum [0, length) cut into a coder's units and the gaps around them."""
    out: list[Section] = []
    at = 0
    for start, end in units:
        if start > at:
            out.append((at, start, False))
        out.append((start, end, True))
        at = end
    if at < length:
        out.append((at, length, False))
    return out


def _disagreement(a: list[Section], b: list[Section]) -> int:
    """Σ δ² over every overlapping pair of sections of two coders (one sweep: both cut the same continuum)."""
    total = i = j = 0
    while i < len(a) and j < len(b):
        (sa, ea, ua), (sb, eb, ub) = a[i], b[j]
        if ua and ub:
            total += (sa - sb) ** 2 + (ea - eb) ** 2
        elif ua and sb <= sa and ea <= eb:
            total += (ea - sa) ** 2
        elif ub and sa <= sb and eb <= ea:
            total += (eb - sb) ** 2
        i, j = i + (ea <= eb), j + (eb <= ea)
    return total
