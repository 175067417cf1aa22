"""The guidelines and label definitions teach with constructed examples: nothing an annotator reads quotes the texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chipwar.leakage import RUN, find_leaks, schema_descriptions

TEXT = "Officials in Veloria said on Monday that the Kestrel plant would reopen next spring after repairs."


@pytest.fixture(scope="module")
def texts(repo: Path) -> dict[str, str]:
    found = {p.stem: p.read_text("utf-8") for p in sorted((repo / "corpus").glob("*.txt"))}
    assert found, "the corpus texts are the reference"
    return found


def test_the_guidelines_quote_no_corpus_text(repo: Path, texts: dict[str, str]) -> None:
    leaks = find_leaks((repo / "annotations" / "GUIDELINES.md").read_text("utf-8"), texts)
    assert leaks == [], "\n".join(f"line {x.line}: {x.kind} {x.passage!r} ({x.doc_id})" for x in leaks)


@pytest.mark.parametrize("name", ["annotations.schema.json", "document.schema.json"])
def test_the_label_definitions_quote_no_corpus_text(name: str, repo: Path, texts: dict[str, str]) -> None:
    descriptions = "\n".join(schema_descriptions(json.loads((repo / "schema" / name).read_text("utf-8"))))
    assert descriptions, "the schema's descriptions are what annotators read"
    assert find_leaks(descriptions, texts) == []


def test_a_run_of_seven_shared_words_is_a_leak_and_six_are_not() -> None:
    seven = " ".join(TEXT.split()[2:2 + RUN])
    six = " ".join(TEXT.split()[2:2 + RUN - 1])
    assert [(x.kind, x.passage) for x in find_leaks(f"An example: {seven}.", {"d": TEXT})] == [("run", seven.lower())]
    assert find_leaks(f"An example: {six}, then other words entirely here.", {"d": TEXT}) == []


def test_quoted_phrases_of_three_words_or_with_a_name_are_leaks_cue_words_are_not() -> None:
    guidance = "Cues such as 'said' and \"next spring\" are fine; 'the Kestrel plant' and “Veloria” and 'would reopen next' are not."
    assert sorted(x.passage for x in find_leaks(guidance, {"d": TEXT})) == ["Veloria", "the Kestrel plant", "would reopen next"]


def test_case_curly_apostrophes_and_line_breaks_do_not_hide_a_copy() -> None:
    text = "The minister’s plan, critics said, was DOOMED from the very start of talks."
    assert find_leaks("the minister's plan critics said was doomed from", {"d": text})
    assert find_leaks("Writers' 'quotes' aside, an apostrophe in a word isn't a quotation.", {"d": text}) == []


def test_an_invented_example_passes() -> None:
    assert find_leaks("'Ostmark has agreed' shows a place standing for its government.", {"d": TEXT}) == []
