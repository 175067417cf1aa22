"""The bias labels' SemEval mappings are strings the official scorers read, and only where the definitions match."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

#: SemEval-2020 Task 11, technique classification: the 14 labels its scorer reads (merged classes keep their commas).
SEMEVAL2020_TC = {
    "Appeal_to_Authority", "Appeal_to_fear-prejudice", "Bandwagon,Reductio_ad_hitlerum", "Black-and-White_Fallacy",
    "Causal_Oversimplification", "Doubt", "Exaggeration,Minimisation", "Flag-Waving", "Loaded_Language", "Name_Calling,Labeling",
    "Repetition", "Slogans", "Thought-terminating_Cliches", "Whataboutism,Straw_Men,Red_Herring",
}
#: SemEval-2023 Task 3 subtask 3: the 23 techniques (techniques_subtask3.txt of the task's material).
SEMEVAL2023_ST3 = {
    "Appeal_to_Authority", "Appeal_to_Popularity", "Appeal_to_Values", "Appeal_to_Fear-Prejudice", "Flag_Waving",
    "Causal_Oversimplification", "False_Dilemma-No_Choice", "Consequential_Oversimplification", "Straw_Man", "Red_Herring",
    "Whataboutism", "Slogans", "Appeal_to_Time", "Conversation_Killer", "Loaded_Language", "Repetition", "Exaggeration-Minimisation",
    "Obfuscation-Vagueness-Confusion", "Name_Calling-Labeling", "Doubt", "Guilt_by_Association", "Appeal_to_Hypocrisy",
    "Questioning_the_Reputation",
}
OFFICIAL = {"x-semeval2020": SEMEVAL2020_TC, "x-semeval2023": SEMEVAL2023_ST3}


@pytest.fixture(scope="module")
def labels(repo: Path) -> list[dict]:
    return json.loads((repo / "schema" / "annotations.schema.json").read_text("utf-8"))["$defs"]["BiasLabel"]["oneOf"]


def test_the_official_lists_are_whole() -> None:
    assert (len(SEMEVAL2020_TC), len(SEMEVAL2023_ST3)) == (14, 23)


@pytest.mark.parametrize("key", sorted(OFFICIAL))
def test_every_mapping_is_an_official_label_or_null_with_a_reason(key: str, labels: list[dict]) -> None:
    for label in labels:
        assert key in label, f"{label['const']}: {key} missing (null when deliberately unmapped)"
        value = label[key]
        if value is None:
            assert label.get("x-unmapped-reason", "").strip(), f"{label['const']}: unmapped in {key} without saying why"
        else:
            assert value in OFFICIAL[key], f"{label['const']}: {value!r} is not a label of {key}'s scorer"


def test_a_mapped_label_carries_no_unmapped_reason(labels: list[dict]) -> None:
    for label in labels:
        if label["x-semeval2020"] is not None and label["x-semeval2023"] is not None:
            assert "x-unmapped-reason" not in label, label["const"]


def test_hedges_and_sourcing_are_not_persuasion_techniques(labels: list[dict]) -> None:
    """Journalistic hedging and anonymous sourcing are not Obfuscation-Vagueness-Confusion (the expert's finding)."""
    by_name = {label["const"]: label for label in labels}
    for name in ("hedge", "weasel_sourcing", "epistemic_verb"):
        assert (by_name[name]["x-semeval2023"], by_name[name]["x-semeval2020"]) == (None, None), name
    assert not any(label["x-semeval2023"] == "Obfuscation-Vagueness-Confusion" for label in labels)


def test_appeal_to_authority_is_not_ordinary_sourcing(labels: list[dict]) -> None:
    (authority,) = [label for label in labels if label["const"] == "appeal_to_authority"]
    assert "not" in authority["description"] and "sourcing" in authority["description"]


def test_the_dataset_card_lists_every_unmapped_label_and_why(corpus_copy: Path, tmp_path: Path, labels: list[dict]) -> None:
    from .conftest import REPO, run_chipwar

    (corpus_copy / "VERSION").write_bytes((REPO / "VERSION").read_bytes())
    built = run_chipwar("build", "--corpus", str(corpus_copy), "--out", str(tmp_path / "dist"))
    assert built.returncode == 0, built.stdout + built.stderr
    card = (tmp_path / "dist" / "README.md").read_text("utf-8")
    for label in labels:
        if label["x-semeval2020"] is None or label["x-semeval2023"] is None:
            row = next(line for line in card.splitlines() if line.startswith(f"| `{label['const']}` |"))
            assert label["x-unmapped-reason"] in row and "| — |" in row
