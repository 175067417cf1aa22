"""Attribution chains and restatement links, as `chipwar validate` checks them (schema 2.0.0)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable

import pytest

from .conftest import annotation_file, chain_link, entity, flat, run_chipwar, span_at, write_set

DOC = "reg-2023-qiming"
CLAIM = "The new initiative, called Qiming, is overseen by the Ministry of Industry and Information Technology"
LEDE = "China is looking to hire engineers from other nations to bolster local chip production"


def _file(root: Path) -> dict:
    t = (root / "corpus" / f"{DOC}.txt").read_text("utf-8")
    reuters = entity(t, DOC, "e1", "Reuters", "ORG", "reuters")
    reuters["org_type"] = "media"
    relayed = span_at(t, DOC, "c1", CLAIM, "event_property", check_worthiness="check_worthy", claimant_type="unidentified",
                      claimant_id=None, attribution_form="reported",
                      attribution_chain=[chain_link(t, "anonymous", None, "anonymous sources"),
                                         chain_link(t, "named_organization", "reuters", "according to Reuters")],
                      restates=[f"{DOC}:c2"], certainty="certain")
    lede = span_at(t, DOC, "c2", LEDE, "position_statement", check_worthiness="check_worthy", claimant_type="author", claimant_id=None,
                   attribution_form="none", attribution_chain=[], restates=[f"{DOC}:c1"], certainty="certain")
    return annotation_file(DOC, t, entities=[reuters], claims=[relayed, lede])


def _validate(root: Path, data: dict) -> tuple[int, list[dict]]:
    write_set(root, "tester", data)
    ran = run_chipwar("validate", f"annotations/tester/{DOC}.json", "--format", "json", cwd=root)
    return ran.returncode, [p for p in flat(ran.stdout)["problems"] if p["severity"] == "error"]


def test_a_relayed_claim_with_its_chain_and_a_restatement_validates(corpus_copy: Path) -> None:
    rc, problems = _validate(corpus_copy, _file(corpus_copy))
    assert (rc, problems) == (0, [])


CASES: dict[str, tuple[Callable[[dict], None], str, str]] = {
    "cue_text_differs": (lambda d: d["claims"][0]["attribution_chain"][1]["cue"].update(text="according to Nikkei"),
                         "offset_text_mismatch", "/claims/0/attribution_chain/1/cue/start"),
    "cue_past_the_end": (lambda d: d["claims"][0]["attribution_chain"][0]["cue"].update(end=10**6),
                         "offset_out_of_range", "/claims/0/attribution_chain/0/cue/end"),
    "cue_backwards": (lambda d: d["claims"][0]["attribution_chain"][0]["cue"].update(end=3),
                      "offset_order", "/claims/0/attribution_chain/0/cue/end"),
    "undefined_entity": (lambda d: d["claims"][0]["attribution_chain"][1].update(entity_id="nikkei"),
                         "dangling_reference", "/claims/0/attribution_chain/1/entity_id"),
    "source_twice": (lambda d: d["claims"][0]["attribution_chain"].append(copy.deepcopy(d["claims"][0]["attribution_chain"][1])),
                     "chain_cycle", "/claims/0/attribution_chain/2/entity_id"),
    "claimant_not_the_original_source": (lambda d: d["claims"][0].update(claimant_type="entity", claimant_id="reuters"),
                                         "claimant_mismatch", "/claims/0/claimant_type"),
    "attributed_but_form_none": (lambda d: d["claims"][0].update(attribution_form="none"),
                                 "attribution_form_mismatch", "/claims/0/attribution_form"),
    "author_claim_with_a_form": (lambda d: d["claims"][1].update(attribution_form="reported"),
                                 "attribution_form_mismatch", "/claims/1/attribution_form"),
    "restates_itself": (lambda d: d["claims"][1]["restates"].append(d["claims"][1]["id"]), "restates_self", "/claims/1/restates/1"),
    "restates_one_way": (lambda d: d["claims"][1].update(restates=[]), "restates_one_way", "/claims/0/restates/0"),
    "restates_unknown": (lambda d: d["claims"][1]["restates"].append(f"{DOC}:c99"), "dangling_reference", "/claims/1/restates/1"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_chain_is_reported_where_it_is(case: str, corpus_copy: Path) -> None:
    edit, code, at = CASES[case]
    data = _file(corpus_copy)
    edit(data)
    rc, problems = _validate(corpus_copy, data)
    assert rc == 1
    assert (code, at, f"{DOC}:c1" if at.startswith("/claims/0") else f"{DOC}:c2") in {
        (p["code"], p["pointer"], p["annotation_id"]) for p in problems}, problems


def test_the_outlet_citing_itself_is_still_the_author(corpus_copy: Path) -> None:
    data = _file(corpus_copy)
    t = (corpus_copy / "corpus" / f"{DOC}.txt").read_text("utf-8")
    data["claims"][1].update(attribution_form="reported", attribution_chain=[chain_link(t, "outlet", None, None)])
    assert _validate(corpus_copy, data) == (0, [])
    data["claims"][1].update(claimant_type="unidentified")
    rc, problems = _validate(corpus_copy, data)
    assert rc == 1 and problems[0]["code"] == "claimant_mismatch" and "'author'" in problems[0]["expected"]


def test_a_named_link_without_its_entity_is_refused_by_the_schema(corpus_copy: Path) -> None:
    data = _file(corpus_copy)
    data["claims"][0]["attribution_chain"][1]["entity_id"] = None
    rc, problems = _validate(corpus_copy, data)
    assert rc == 1 and any(p["pointer"].startswith("/claims/0/attribution_chain/1") for p in problems)
