"""Agreement on hand-made sets whose agreement is known, and every bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chipwar.agreement import agree_sets
from chipwar.agreement.coefficients import unitized_alpha
from chipwar.corpus import Corpus
from chipwar.validation.run import validate_corpus

from .conftest import annotation_file, chain_link, entity, flat, run_chipwar, span_at, tree, write_set

DOC = "reg-2023-qiming"
OTHER = "tfi-2021-chip-crisis"
HAND = ("hand-a", "hand-b", "hand-c")


def _text(root: Path) -> str:
    return (root / "corpus" / f"{DOC}.txt").read_text("utf-8")


def _claim(text: str, local: str, surface: str, chain: list[dict], restates: tuple[str, ...] = ()) -> dict:
    """A claim whose claimant fields follow from its chain, as validate requires."""
    first = chain[0] if chain else None
    kind = "author" if first is None else "entity" if first["entity_id"] else "unidentified"
    return span_at(text, DOC, local, surface, "event_property", check_worthiness="check_worthy", claimant_type=kind,
                   claimant_id=first["entity_id"] if first else None, attribution_form="reported" if chain else "none",
                   attribution_chain=chain, restates=[f"{DOC}:{r}" for r in restates], certainty="certain")


def _marker(text: str, local: str, surface: str, targets: list[str], in_quote: bool = False, speaker: str | None = None) -> dict:
    return span_at(text, DOC, local, surface, "loaded_language", target_ids=targets, polarity="negative", intensity="medium",
                   in_quote=in_quote, quote_speaker_id=speaker)


S1 = "The new initiative, called Qiming, is overseen by the Ministry of Industry and Information Technology"
S2 = "Huawei has taken possession at least two existing factories and is building a minimum of three others"
S3 = "it is doing this under the names of other companies to conceal its involvement"
S4 = "Huawei is building out a covert network of semiconductor facilities across China"
S5 = "China cooks covert chips, recruits global geeks to dodge US restrictions"


def _hand_sets(root: Path) -> None:
    """Three sets on one document whose figures are worked out by hand in the tests below.

    - entities: A Huawei/Washington/Qiming; B Huawei/"Washington tries"/Reuters; C as A with other slugs for two.
    - claims: the same five spans in each set; chains, cues and restatements differ (see each test); C numbers
      the last two claims c7 and c6, so its restatements name other ids than A's for the same claims.
    - bias markers: targets in another order (B) or fewer (C); C says the second marker is quoted.
    - document labels: A and B differ on tone; C has none (missing data).
    """
    text = _text(root)
    link = lambda kind, entity_id, cue: chain_link(text, kind, entity_id, cue)  # noqa: E731
    reuters = link("named_organization", "reuters", "according to Reuters")
    bloomberg = link("named_organization", "bloomberg", "as reported by Bloomberg")
    sia_claims = link("named_organization", "sia", "SIA claims")
    entities = {
        "hand-a": [entity(text, DOC, "e1", "Huawei", "ORG", "huawei"), entity(text, DOC, "e2", "Washington", "GPE", "us"),
                   entity(text, DOC, "e3", "Qiming", "PROGRAM", "qiming")],
        "hand-b": [entity(text, DOC, "e1", "Huawei", "ORG", "huawei"), entity(text, DOC, "e2", "Washington tries", "GPE", "us"),
                   entity(text, DOC, "e3", "Reuters", "ORG", "reuters")],
        "hand-c": [entity(text, DOC, "e1", "Huawei", "ORG", "huawei-technologies"), entity(text, DOC, "e2", "Washington", "GPE", "washington"),
                   entity(text, DOC, "e3", "Qiming", "PROGRAM", "qiming")],
    }
    claims = {
        "hand-a": [_claim(text, "c1", S1, [link("anonymous", None, "anonymous sources"), reuters]),
                   _claim(text, "c2", S2, [link("named_organization", "sia", "According to the Semiconductor Industry Association (SIA)")]),
                   _claim(text, "c3", S3, [sia_claims, bloomberg]),
                   _claim(text, "c4", S4, [], restates=("c5",)), _claim(text, "c5", S5, [], restates=("c4",))],
        "hand-b": [_claim(text, "c1", S1, [reuters]),
                   _claim(text, "c2", S2, [link("named_organization", "sia", "Semiconductor Industry Association")]),
                   _claim(text, "c3", S3, [sia_claims, link("named_organization", "bloomberg", "reported by Bloomberg")]),
                   _claim(text, "c4", S4, []), _claim(text, "c5", S5, [])],
        "hand-c": [_claim(text, "c1", S1, [link("anonymous", None, "anonymous sources"), reuters]),
                   _claim(text, "c2", S2, [link("named_organization", "semiconductor-industry-association",
                                                "According to the Semiconductor Industry Association (SIA)")]),
                   _claim(text, "c3", S3, [sia_claims, bloomberg]),
                   _claim(text, "c7", S4, [], restates=("c6",)), _claim(text, "c6", S5, [], restates=("c7",))],
    }
    markers = {
        "hand-a": [_marker(text, "b1", "crippling US sanctions", ["us", "china"]), _marker(text, "b2", "covert", ["huawei"])],
        "hand-b": [_marker(text, "b1", "crippling US sanctions", ["china", "us"]), _marker(text, "b2", "covert", ["huawei"])],
        "hand-c": [_marker(text, "b1", "crippling US sanctions", ["us"]), _marker(text, "b2", "covert", ["huawei"], True, "reuters")],
    }
    labels = {"hand-a": "neutral", "hand-b": "negative", "hand-c": None}
    for name in HAND:
        data = annotation_file(DOC, text, entities=entities[name], claims=claims[name], bias_markers=markers[name])
        if labels[name]:
            data["document_labels"] = {"genre": "news_report", "primary_frame": "external_regulation", "tone": labels[name],
                                       "provenance": {"agent": name, "origin": "manual", "created": None}, "note": None}
        write_set(root, name, data)


@pytest.fixture
def hand(corpus_copy: Path) -> Path:
    _hand_sets(corpus_copy)
    return corpus_copy


def _pair(field: dict, a: str, b: str) -> dict:
    return next(p for p in field["pairwise"] if p["sets"] == [a, b])


def _agree_json(root: Path, *sets: str) -> dict:
    result = run_chipwar("agree", *sets, "--corpus", str(root), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    return flat(result.stdout)


def test_the_hand_made_sets_pass_validation(hand: Path) -> None:
    """Otherwise agree would leave them out: every figure below rests on these files being read."""
    problems = [p for p in validate_corpus(Corpus(hand)).errors if p.file.startswith("annotations/hand-")]
    assert problems == []
    assert agree_sets(Corpus(hand), HAND).documents == [DOC]


def test_entity_spans_labels_and_canonical_ids(hand: Path) -> None:
    out = _agree_json(hand, *HAND)
    ent = out["layers"]["entities"]
    assert ent["spans"] == {"hand-a": 3, "hand-b": 3, "hand-c": 3} and ent["units"] == 4  # Huawei, Washington, Qiming, Reuters
    ab, ac, bc = ent["matching"]["pairwise"]
    assert (ab["exact_matches"], ab["overlap_matches"]) == (1, 2) and ab["overlap_f1"] == pytest.approx(2 / 3)
    assert (ac["exact_f1"], ac["overlap_f1"]) == (1.0, 1.0) and bc["exact_f1"] == pytest.approx(1 / 3)
    assert ent["matching"]["mean_exact_f1"] == pytest.approx(5 / 9) and ent["matching"]["mean_overlap_f1"] == pytest.approx(7 / 9)
    label = ent["fields"]["label"]
    assert label["mean_agreement"] == 1.0 and label["alpha"]["value"] == 1.0 and label["alpha"]["units"] == 3  # Reuters alone: unpairable
    canonical = ent["fields"]["canonical_id"]
    assert _pair(canonical, "hand-a", "hand-b")["agreement"] == 1.0
    # A–C: (huawei, huawei-technologies), (us, washington), (qiming, qiming): observed 1/3, chance 1/9, κ = (2/9)/(8/9).
    assert _pair(canonical, "hand-a", "hand-c")["agreement"] == pytest.approx(1 / 3)
    assert _pair(canonical, "hand-a", "hand-c")["kappa"] == pytest.approx(1 / 4)
    assert _pair(canonical, "hand-b", "hand-c")["kappa"] == pytest.approx(0.0)
    # Alpha on units [huawei, huawei, huawei-technologies], [us, us, washington], [qiming, qiming]:
    # n = 8, disagreeing coincidences 4 → D_o = 1/2; n² − Σn_c² = 64 − 14 = 50 → D_e = 50/56; alpha = 1 − 28/50 = 0.44.
    assert canonical["alpha"]["value"] == pytest.approx(0.44) and (canonical["alpha"]["units"], canonical["alpha"]["values"]) == (3, 8)


def test_unitized_alpha_is_over_the_layer_spans_of_every_set(hand: Path) -> None:
    result = agree_sets(Corpus(hand), HAND)
    text = _text(hand)
    positions = [[(s["start"], s["end"]) for s in json.loads((hand / "annotations" / name / f"{DOC}.json").read_text("utf-8"))["entities"]]
                 for name in HAND]
    expected = unitized_alpha(len(text), positions)
    u = result.layers["entities"].u_alpha
    assert (u.continuum, u.units) == (len(text), 9) and u.value == pytest.approx(expected.value) and 0 < u.value < 1
    whole = agree_sets(Corpus(hand), ["pass-1", "pass-2"]).layers["zones"].u_alpha
    both = sum(len((hand / "corpus" / f"{d}.txt").read_text("utf-8")) for d in (DOC, OTHER))
    assert whole.continuum == both  # the documents laid end to end


def test_chains_sources_kinds_and_claimants(hand: Path) -> None:
    claims = _agree_json(hand, *HAND)["layers"]["claims"]
    fields = claims["fields"]
    # A–B over c1..c3 (c4, c5 have empty chains on both sides and are left out): c1 differs, c2 and c3 agree.
    chain = _pair(fields["attribution_chain"], "hand-a", "hand-b")
    assert chain["pairs"] == 3 and chain["agreement"] == pytest.approx(2 / 3)
    assert chain["kappa"] == pytest.approx(4 / 7)  # three distinct chains a side, two shared: chance 2/9
    # Original source: A (anonymous, sia, sia) vs B (reuters, sia, sia): chance 4/9, κ = (2/9)/(5/9).
    assert _pair(fields["attribution_chain.original_source"], "hand-a", "hand-b")["kappa"] == pytest.approx(2 / 5)
    # Kinds: A (anon+org, org, org+org) vs B (org, org, org+org): chance 3/9, κ = (1/3)/(2/3).
    assert _pair(fields["attribution_chain.kinds"], "hand-a", "hand-b")["kappa"] == pytest.approx(1 / 2)
    # claimant_id: pairs with a value on either side: c1 (null vs reuters), c2, c3 — the same figures as the original source.
    claimant = _pair(fields["claimant_id"], "hand-a", "hand-b")
    assert claimant["pairs"] == 3 and claimant["kappa"] == pytest.approx(2 / 5)
    # claimant_type on all five: A (unidentified, entity, entity, author, author) vs B (entity ×3, author ×2): κ = (0.8 − 0.4)/0.6.
    assert _pair(fields["claimant_type"], "hand-a", "hand-b")["kappa"] == pytest.approx(2 / 3)
    # C names SIA by another slug: the chain of c2 differs from A's.
    assert _pair(fields["attribution_chain"], "hand-a", "hand-c")["agreement"] == pytest.approx(2 / 3)
    # Alpha over the three sets on c1..c3: units (X1, X2, X1), (Y, Y, Y'), (Z, Z, Z): n = 9, D_o = 4/9,
    # n² − Σn_c² = 81 − 19 = 62 → D_e = 62/72; alpha = 1 − (4/9)(72/62) = 15/31.
    assert fields["attribution_chain"]["alpha"]["value"] == pytest.approx(15 / 31)
    assert fields["attribution_chain"]["alpha"]["units"] == 3


def test_restatements_are_compared_through_the_matched_claims(hand: Path) -> None:
    restates = _agree_json(hand, *HAND)["layers"]["claims"]["fields"]["restates"]
    # A links c4 and c5, C links c7 and c6: other ids, but the same claims (matched by their spans): equal. B links nothing.
    assert _pair(restates, "hand-a", "hand-c") == {"sets": ["hand-a", "hand-c"], "pairs": 2, "agreement": 1.0, "kappa": 1.0}
    assert _pair(restates, "hand-a", "hand-b")["pairs"] == 2 and _pair(restates, "hand-a", "hand-b")["agreement"] == 0.0
    assert restates["alpha"]["units"] == 2


def test_attribution_cues_are_matched_by_overlap_on_paired_claims(hand: Path) -> None:
    cues = _agree_json(hand, *HAND)["layers"]["claims"]["cues"]
    ab = next(p for p in cues["pairwise"] if p["sets"] == ["hand-a", "hand-b"])
    # c1: A 2 cues, B "according to Reuters" (exact); c2: B's cue inside A's (overlap only); c3: "SIA claims" exact,
    # "reported by Bloomberg" inside "as reported by Bloomberg": A 5, B 4, exact 2, overlap 4.
    assert (ab["count_a"], ab["count_b"], ab["exact_matches"], ab["overlap_matches"]) == (5, 4, 2, 4)
    assert ab["exact_f1"] == pytest.approx(4 / 9) and ab["overlap_f1"] == pytest.approx(8 / 9)


def test_bias_marker_targets_as_sets_and_quotes(hand: Path) -> None:
    fields = _agree_json(hand, *HAND)["layers"]["bias_markers"]["fields"]
    assert _pair(fields["target_ids"], "hand-a", "hand-b")["agreement"] == 1.0  # the same ids in another order
    assert _pair(fields["target_ids"], "hand-a", "hand-c")["agreement"] == 0.5
    assert _pair(fields["in_quote"], "hand-a", "hand-c")["agreement"] == 0.5
    assert _pair(fields["in_quote"], "hand-a", "hand-b")["kappa"] is None  # one value throughout: κ is not defined
    speaker = _pair(fields["quote_speaker_id"], "hand-a", "hand-c")
    assert (speaker["pairs"], speaker["agreement"]) == (1, 0.0)  # only C names a speaker; pairs where neither does are left out
    assert _pair(fields["quote_speaker_id"], "hand-a", "hand-b")["pairs"] == 0


def test_document_labels_with_a_set_that_gave_none(hand: Path) -> None:
    labels = _agree_json(hand, *HAND)["document_labels"]
    tone = labels["tone"]
    assert [p["pairs"] for p in tone["pairwise"]] == [1, 0, 0] and tone["mean_agreement"] == 0.0
    # One unit (neutral, negative): D_o = 1, D_e = 1, alpha = 0; hand-c's missing value is left out.
    assert tone["alpha"] == {"value": 0.0, "units": 1, "values": 2, "observed": 1.0, "expected": 1.0}
    assert labels["genre"]["mean_agreement"] == 1.0 and labels["genre"]["alpha"]["value"] is None


def test_two_sets_still_work_and_give_the_same_figures_as_that_pair_among_three(hand: Path) -> None:
    two = _agree_json(hand, "hand-a", "hand-b")
    three = _agree_json(hand, *HAND)
    assert two["sets"] == ["hand-a", "hand-b"] and two["pairs"] == [["hand-a", "hand-b"]]
    for layer in two["layers"]:
        assert two["layers"][layer]["matching"]["pairwise"][0] == three["layers"][layer]["matching"]["pairwise"][0]
        for name, field in two["layers"][layer]["fields"].items():
            assert field["pairwise"][0] == _pair(three["layers"][layer]["fields"][name], "hand-a", "hand-b")
            # with two sets the units alpha counts are exactly the paired spans kappa counts
            assert field["alpha"]["units"] == field["pairwise"][0]["pairs"]
    assert set(two["measures"]) >= {"exact_f1", "overlap_f1", "agreement", "kappa", "alpha", "u_alpha"}


def test_text_output_has_a_table_per_layer_and_says_what_it_measures(hand: Path) -> None:
    result = run_chipwar("agree", *HAND, "--corpus", str(hand))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Krippendorff's alpha over all sets" in out and "Cohen's kappa" in out and "means over the 3 pairs of sets" in out
    for layer in ("zones", "entities", "claims", "bias_markers"):
        assert f"\n{layer}: spans hand-a " in out
    assert "  spans: exact F1 0.56, overlap F1 0.78, u-α " in out
    row = next(line.split() for line in out.splitlines() if line.strip().startswith("canonical_id"))
    # pairs A–B 2, A–C 3, B–C 2; agreement (1 + 1/3 + 0)/3; κ (1 + 1/4 + 0)/3; alpha 0.44 on 3 units (see above)
    assert row == ["canonical_id", "7", "0.44", "0.42", "3", "0.44"]


def test_generated_block_accepts_three_sets(hand: Path) -> None:
    block = hand / "AGREE.md"
    block.write_text("<!-- BEGIN GENERATED: agreement hand-a hand-b hand-c -->\n<!-- END GENERATED -->\n", "utf-8")
    result = run_chipwar("generate", "--corpus", str(hand))
    assert result.returncode == 0, result.stdout + result.stderr
    body = block.read_text("utf-8")
    assert "Agreement of `hand-a`, `hand-b`, `hand-c` over 1 document(s)." in body
    assert "| entities | 3 / 3 / 3 | 0.56 | 0.78 |" in body
    assert "| entities | canonical_id | 7 | 0.44 | 0.42 | 3 | 0.44 |" in body
    assert "| claims | attribution_chain.original_source |" in body and "| bias_markers | in_quote |" in body
    assert "| tone | 1 | 0.00 | 0.00 | 1 | 0.00 |" in body and "Attribution cues of paired claims" in body


@pytest.mark.parametrize("spec", ["agreement hand-a", "agreement hand-a hand-a", "agreement hand-a nobody"])
def test_a_generated_block_naming_too_few_repeated_or_unknown_sets_is_refused(spec: str, hand: Path) -> None:
    (hand / "AGREE.md").write_text(f"<!-- BEGIN GENERATED: {spec} -->\nold\n<!-- END GENERATED -->\n", "utf-8")
    before = tree(hand)
    result = run_chipwar("generate", "--corpus", str(hand), "--format", "json")
    problems = flat(result.stdout)["problems"]
    assert result.returncode == 1 and [p["code"] for p in problems] == ["generated_unknown"] and problems[0]["file"] == "AGREE.md"
    assert tree(hand) == before


@pytest.mark.parametrize(("sets", "said"), [
    (["hand-a"], "agreement needs two or more annotation sets; 1 given"),
    (["hand-a", "hand-b", "hand-a"], "'hand-a' named more than once"),
    (["hand-a", "nobody"], "no annotation set 'nobody'"),
])
def test_bad_set_lists_are_usage_errors(sets: list[str], said: str, hand: Path) -> None:
    before = tree(hand)
    text = run_chipwar("agree", *sets, "--corpus", str(hand))
    assert text.returncode == 2 and said in text.stderr and not text.stdout
    as_json = run_chipwar("agree", *sets, "--corpus", str(hand), "--format", "json")
    envelope = json.loads(as_json.stdout)
    assert as_json.returncode == 2 and envelope["error"]["code"] == "usage_error" and said in envelope["error"]["message"]
    assert tree(hand) == before


def test_no_set_at_all_is_a_usage_error(hand: Path) -> None:
    result = run_chipwar("agree", "--corpus", str(hand))
    assert result.returncode == 2 and "Missing argument 'SETS...'" in result.stderr


def test_agree_with_an_empty_set_says_nothing_was_compared(corpus_copy: Path) -> None:
    (corpus_copy / "annotations" / "empty").mkdir()
    before = tree(corpus_copy)
    result = run_chipwar("agree", "pass-1", "empty", "gold", "--corpus", str(corpus_copy), "--format", "json")
    out = flat(result.stdout)
    assert result.returncode == 1 and out["documents"] == []
    assert [(p["code"], p["file"]) for p in out["problems"]] == [("nothing_compared", "annotations/empty")]
    assert "holds no annotation file" in out["problems"][0]["message"] and "--annotator empty" in out["problems"][0]["hint"]
    assert out["layers"]["entities"]["fields"]["label"]["alpha"]["value"] is None
    assert out["layers"]["entities"]["u_alpha"]["continuum"] == 0
    text = run_chipwar("agree", "empty", "gold", "--corpus", str(corpus_copy))
    assert text.returncode == 1 and "nothing was compared: annotations/empty holds no annotation file" in text.stdout
    assert tree(corpus_copy) == before


def test_only_documents_every_set_annotated_are_compared(corpus_copy: Path) -> None:
    (corpus_copy / "annotations" / "gold" / f"{OTHER}.json").unlink()
    out = _agree_json(corpus_copy, "pass-1", "pass-2", "gold")
    assert out["documents"] == [DOC] and out["not_in_every_set"] == {OTHER: ["pass-1", "pass-2"]}
    text = run_chipwar("agree", "pass-1", "pass-2", "gold", "--corpus", str(corpus_copy))
    assert f"not compared ({OTHER}): only in pass-1, pass-2" in text.stdout


def test_agree_over_sets_that_share_no_document_says_nothing_was_compared(corpus_copy: Path) -> None:
    (corpus_copy / "annotations" / "pass-1" / f"{DOC}.json").unlink()
    (corpus_copy / "annotations" / "pass-2" / f"{OTHER}.json").unlink()
    result = run_chipwar("agree", "pass-1", "pass-2", "--corpus", str(corpus_copy), "--format", "json")
    out = flat(result.stdout)
    assert result.returncode == 1 and out["documents"] == [] and out["not_in_every_set"] == {DOC: ["pass-2"], OTHER: ["pass-1"]}
    assert [(p["code"], p["found"]) for p in out["problems"]] == [("nothing_compared", "1 in pass-1, 1 in pass-2")]
    assert "no document is annotated in all of pass-1, pass-2" in out["problems"][0]["message"]


@pytest.mark.parametrize("content", ["null", "[1]", '{"entities": 5}', "{nope"])
def test_broken_file_is_left_out_and_named(content: str, corpus_copy: Path) -> None:
    """Agreement over a set with a broken file: figures over the rest, the file named with why, exit 1; nothing written."""
    broken = corpus_copy / "annotations" / "pass-1" / f"{DOC}.json"
    broken.write_text(content, "utf-8")
    before = tree(corpus_copy)
    result = run_chipwar("agree", "pass-1", "pass-2", "gold", "--corpus", str(corpus_copy), "--format", "json")
    assert result.returncode == 1, result.stdout
    out = flat(result.stdout)
    assert out["skipped"] == [DOC] and out["documents"] == [OTHER]
    assert [(p["code"], p["file"]) for p in out["problems"]] == [("file_skipped", f"annotations/pass-1/{DOC}.json")]
    assert "chipwar validate" in out["problems"][0]["hint"]
    text = run_chipwar("agree", "pass-1", "pass-2", "--corpus", str(corpus_copy))
    assert text.returncode == 1 and f"annotations/pass-1/{DOC}.json" in text.stdout and "left out" in text.stderr
    assert tree(corpus_copy) == before


def test_set_folder_symlinked_out_of_the_repository_is_not_read(corpus_copy: Path, tmp_path: Path) -> None:
    shutil.move(corpus_copy / "annotations" / "pass-1", tmp_path / "elsewhere")
    (corpus_copy / "annotations" / "pass-1").symlink_to(tmp_path / "elsewhere")
    result = run_chipwar("agree", "pass-1", "pass-2", "--corpus", str(corpus_copy), "--format", "json")
    out = flat(result.stdout)
    assert result.returncode == 1 and out["documents"] == []
    assert [(p["code"], p["file"]) for p in out["problems"]] == [("symlink_outside", "annotations/pass-1"),
                                                                ("nothing_compared", "annotations/pass-1")]


#: name: (break the first entity of a copied file, code validate reports for it)
REJECTED: dict[str, tuple[object, str]] = {
    "end_past_text": (lambda d: d["entities"][0].update(end=99999), "offset_out_of_range"),
    "text_not_the_slice": (lambda d: d["entities"][0].update(text="Huawei?"), "offset_text_mismatch"),
    "end_before_start": (lambda d: d["entities"][0].update(end=d["entities"][0]["start"]), "offset_order"),
    "stale": (lambda d: d.update(text_sha256="0" * 64), "stale_annotations"),
    "dangling_reference": (lambda d: d["entities"][0].update(canonical_id="nobody"), "dangling_reference"),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_a_file_validate_rejects_is_left_out_of_agree_and_stats(case: str, corpus_copy: Path) -> None:
    """The reported bug: stats and agree counted a span whose end is past the text, and exited 0."""
    breaker, code = REJECTED[case]
    data = json.loads((corpus_copy / "annotations" / "pass-1" / f"{DOC}.json").read_text("utf-8"))
    breaker(data)
    write_set(corpus_copy, "one", data)
    rel = f"annotations/one/{DOC}.json"
    assert code in {p.code for p in validate_corpus(Corpus(corpus_copy)).errors}
    before = tree(corpus_copy)
    agree = run_chipwar("agree", "one", "gold", "--corpus", str(corpus_copy), "--format", "json")
    out = flat(agree.stdout)
    assert agree.returncode == 1 and out["documents"] == [] and out["skipped"] == [DOC]
    assert [p["code"] for p in out["problems"]] == ["file_skipped", "nothing_compared"]
    assert out["problems"][0]["file"] == rel and f"[{code}]" in out["problems"][0]["message"]
    assert all(set(la["spans"].values()) == {0} for la in out["layers"].values())
    text = run_chipwar("agree", "one", "gold", "--corpus", str(corpus_copy))
    assert text.returncode == 1 and f"{rel} [file_skipped]" in text.stdout and "nothing was compared" in text.stdout
    stats = run_chipwar("stats", "--corpus", str(corpus_copy), "--format", "json")
    out = flat(stats.stdout)
    assert stats.returncode == 1 and out["skipped"] == [rel] and out["sets"]["one"]["files"] == 0
    assert sum(sum(c.values()) for c in out["sets"]["one"]["layers"].values()) == 0
    assert [(p["code"], p["file"]) for p in out["problems"]] == [("file_skipped", rel)] and f"[{code}]" in out["problems"][0]["message"]
    assert tree(corpus_copy) == before
