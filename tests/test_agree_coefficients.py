"""The agreement coefficients and the matching of spans, on textbook examples and hand-computed cases."""

from __future__ import annotations

import random

import pytest

from chipwar.agreement.coefficients import cohen_kappa, nominal_alpha, unitized_alpha
from chipwar.agreement.matching import match_exact, units_by_overlap


def test_kappa_known_values() -> None:
    assert cohen_kappa([("a", "a"), ("b", "b")]) == pytest.approx(1.0)
    # observed 3/4; chance from the margins (A: ORG 2, GPE 1, PROGRAM 1; B: ORG 3, PROGRAM 1) = (2·3 + 1·1) / 16 = 7/16
    pairs = [("ORG", "ORG"), ("GPE", "ORG"), ("PROGRAM", "PROGRAM"), ("ORG", "ORG")]
    assert cohen_kappa(pairs) == pytest.approx((0.75 - 7 / 16) / (1 - 7 / 16))
    assert cohen_kappa([("a", "a"), ("a", "a")]) is None
    assert cohen_kappa([]) is None


#: Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the 4-coder, 12-unit reliability
#: data matrix with missing values (None); its published nominal alpha is 0.743.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _units(matrix: list[list]) -> list[list]:
    """Reliability data (coders × units) as the values of each unit, missing ones dropped."""
    return [[row[u] for row in matrix if row[u] is not None] for u in range(len(matrix[0]))]


def test_nominal_alpha_reproduces_krippendorffs_worked_example() -> None:
    alpha = nominal_alpha(_units(KRIPPENDORFF_2011))
    # Unit 12 has one value and is not pairable: 11 units, n = 40 values, D_o = 8/40, alpha = 0.743.
    assert (alpha.units, alpha.values) == (11, 40)
    assert alpha.observed == pytest.approx(0.2) and round(alpha.value, 3) == 0.743


def test_nominal_alpha_small_cases_by_hand() -> None:
    # Two coders, units (a,a), (a,b): o_aa = 2, o_ab = o_ba = 1, n_a = 3, n_b = 1, n = 4;
    # D_o = 2/4, D_e = (16 − 10) / 12 = 1/2, alpha = 0.
    assert nominal_alpha([["a", "a"], ["a", "b"]]).value == pytest.approx(0.0)
    assert nominal_alpha([["a", "a"], ["b", "b"]]).value == pytest.approx(1.0)
    assert nominal_alpha([["a", "a"], ["a", "a"]]).value is None  # one value throughout: D_e = 0
    assert nominal_alpha([["a"], []]).value is None and nominal_alpha([]).units == 0


def test_nominal_alpha_equals_the_krippendorff_package_on_random_data_with_gaps() -> None:
    """Cross-check against the `krippendorff` package (an independent implementation)."""
    import krippendorff  # in the test extra
    rng = random.Random(20261124)
    for _ in range(50):
        coders, n_units = rng.randint(2, 5), rng.randint(3, 30)
        matrix = [[rng.choice([None, 1, 2, 3, 3, 4]) for _ in range(n_units)] for _ in range(coders)]
        ours = nominal_alpha(_units(matrix)).value
        if ours is None:
            continue
        theirs = krippendorff.alpha(reliability_data=[[float("nan") if v is None else v for v in row] for row in matrix],
                                    level_of_measurement="nominal")
        assert ours == pytest.approx(theirs, abs=1e-9)


def _from(begin: int, *units: tuple[int, int]) -> list[tuple[int, int]]:
    """(offset, length) units as (start, end) on a continuum starting at ``begin``."""
    return [(offset - begin, offset - begin + length) for offset, length in units]


def test_unitized_alpha_reproduces_krippendorff_2004() -> None:
    """The worked example of Krippendorff (2004, Content Analysis, 2nd ed., p. 254): continuum [150, 450), two
    observers; category c: D_o = 0.0144, D_e = 0.0532, alpha = 0.7286; category k marked identically: alpha = 1
    (the figures DKPro Statistics' test of the same example asserts)."""
    c = unitized_alpha(300, [_from(150, (225, 70), (370, 30)), _from(150, (220, 80), (355, 20), (400, 20))])
    assert c.observed == pytest.approx(0.0144, abs=5e-5) and c.expected == pytest.approx(0.0532, abs=5e-5)
    assert c.value == pytest.approx(0.7286, abs=5e-5) and (c.units, c.continuum) == (5, 300)
    k = unitized_alpha(300, [_from(150, (180, 60), (300, 50)), _from(150, (180, 60), (300, 50))])
    assert k.value == 1.0 and k.expected == pytest.approx(0.0490, abs=5e-5)


def test_unitized_alpha_by_hand() -> None:
    # L = 10; A marks [2, 6), B marks [3, 6). Sections A: gap 2, unit 4, gap 4; B: gap 3, unit 3, gap 4.
    # Only the two units differ: δ² = (2−3)² + (6−6)² = 1, both orders: D_o = 2 / (2·1·10²) = 0.01.
    # D_e: N = 2 units, gaps 2, 3, 4, 4. Unit 4: (1/3)(128 − 48 + 4) + 16·(1 + 1) = 60; unit 3: (1/3)(54 − 27 + 3) + 9·(1 + 2 + 2) = 55;
    # D_e = (2/10)·115 / (20·19 − (12 + 6)) = 23/362; alpha = 1 − 0.01·362/23 = 19.38/23.
    alpha = unitized_alpha(10, [[(2, 6)], [(3, 6)]])
    assert alpha.observed == pytest.approx(0.01) and alpha.expected == pytest.approx(23 / 362)
    assert alpha.value == pytest.approx(19.38 / 23)


def test_unitized_alpha_merges_a_coders_overlapping_units_and_says_so() -> None:
    merged = unitized_alpha(10, [[(2, 5), (4, 6)], [(2, 6)]])
    assert (merged.merged, merged.units, merged.value) == (1, 2, 1.0)
    assert unitized_alpha(10, [[], []]).value is None  # no unit at all: nothing to agree on


def test_overlap_units_are_one_to_one_most_alike_first() -> None:
    a = [{"start": 0, "end": 10}, {"start": 8, "end": 12}]
    b = [{"start": 5, "end": 12}]
    # b shares 5 of 12 covered code points with a[0], 4 of 7 with a[1]: a[1] is the more alike
    assert units_by_overlap([a, b]) == [(a[0], None), (a[1], b[0])]
    assert match_exact([{"start": 1, "end": 2}] * 2, [{"start": 1, "end": 2}]) == 1


def test_a_short_span_nested_in_a_long_one_is_matched_with_its_twin_not_the_long_one() -> None:
    """Two sets mark a long causal span and a quote nested in it; a third marks only the quote: the third's quote is the
    others' quote, and the long span is only in two sets (the long span starts first and overlaps it too)."""
    long, short = {"start": 277, "end": 598, "label": "causal"}, {"start": 281, "end": 293, "label": "scare_quotes"}
    one, two, three = [dict(long), dict(short)], [dict(long), dict(short)], [dict(short)]
    assert units_by_overlap([one, two, three]) == [(one[0], two[0], None), (one[1], two[1], three[0])]


def test_at_equal_likeness_the_same_label_is_matched() -> None:
    a = [{"start": 0, "end": 4, "label": "x"}, {"start": 0, "end": 4, "label": "y"}]
    b = [{"start": 0, "end": 4, "label": "y"}]
    assert units_by_overlap([a, b]) == [(a[0], None), (a[1], b[0])]


def test_units_across_sets_hold_at_most_one_span_of_each_set() -> None:
    a1, a2 = {"start": 0, "end": 10}, {"start": 10, "end": 20}
    b = {"start": 5, "end": 15}
    c = {"start": 12, "end": 30}
    # b shares 5 with a1 and with a2 (a1 first by position); c shares 3 with b and 8 with a2, so a2 and c join first.
    assert units_by_overlap([[a1, a2], [b], [c]]) == [(a1, b, None), (a2, None, c)]
    chained = units_by_overlap([[{"start": 0, "end": 10}], [{"start": 5, "end": 15}], [{"start": 12, "end": 20}]])
    assert len(chained) == 1 and None not in chained[0]
