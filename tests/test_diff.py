"""`chipwar diff` between real git revisions lists exactly the changes made: documents,
annotations per layer and set (matched by id, or by span and label when the id changed),
the fields that changed, label count deltas, text corrections and rated schema changes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from chipwar.render import render_json
from chipwar.versions.compat import compare_schema
from chipwar.versions.diff import Side, diff_sides, render_diff
from chipwar.versions.git import blob_id

from .conftest import GIT_ENV, REPO, annotation_file, chain_link, entity, flat, git, run_chipwar, span_at, write_set
from .test_versions import start_history

DOC = "reg-2023-qiming"
GONE = "tfi-2021-chip-crisis"
CLAIM = "Huawei has taken possession at least two existing factories and is building a minimum of three others"
CLAIM_ATTRS = dict(check_worthiness="check_worthy", claimant_type="author", claimant_id=None, attribution_form="none",
                   attribution_chain=[], restates=[], certainty="certain")
BIAS_ATTRS = dict(target_ids=[], polarity="negative", intensity="medium", in_quote=False, quote_speaker_id=None)
DOC_LABELS = {"genre": "news_report", "primary_frame": "security_defense", "tone": "negative",
              "provenance": {"agent": "test", "origin": "manual", "created": None}, "note": None}


def _text(root: Path, doc_id: str = DOC) -> str:
    return (root / "corpus" / f"{doc_id}.txt").read_text("utf-8")


def _ann(root: Path, set_name: str = "alice", doc_id: str = DOC) -> Path:
    return root / "annotations" / set_name / f"{doc_id}.json"


@pytest.fixture
def released(git_corpus: Path) -> Path:
    """The corpus with a hand-made set 'alice' as the only annotations of DOC (none of GONE), committed and released as v0.1.0."""
    start_history(git_corpus)
    for doc_id in (DOC, GONE):
        for other in (git_corpus / "annotations").glob(f"*/{doc_id}.json"):
            other.unlink()
    text = _text(git_corpus)
    write_set(git_corpus, "alice", annotation_file(
        DOC, text, annotator="alice",
        entities=[entity(text, DOC, "e1", "Huawei", "ORG", "huawei"), entity(text, DOC, "e2", "Washington", "GPE", "washington"),
                  entity(text, DOC, "e3", "Reuters", "ORG", "reuters")],
        claims=[span_at(text, DOC, "c1", CLAIM, "numerical", **CLAIM_ATTRS)],
        bias_markers=[span_at(text, DOC, "b1", "crippling", "loaded_language", **BIAS_ATTRS)]))
    assert run_chipwar("generate", "--corpus", str(git_corpus)).returncode == 0
    assert run_chipwar("validate", str(git_corpus)).returncode == 0
    git(git_corpus, "add", "--all")
    git(git_corpus, "commit", "-qm", "alice annotates")
    release = run_chipwar("release", "0.1.0", "--corpus", str(git_corpus), env=GIT_ENV)
    assert release.returncode == 0, release.stdout + release.stderr
    return git_corpus


def _diff(root: Path, *revs: str) -> dict:
    result = run_chipwar("diff", *revs, "--corpus", str(root), "--format", "json")
    assert result.returncode == 0, result.stderr
    return flat(result.stdout)


def _rows(diff: dict) -> set[tuple]:
    return {(a["set_name"], a["doc_id"], a["layer"], a["change"], a["id"], a["matched_by"], json.dumps(a["fields"], sort_keys=True))
            for a in diff["annotations"]}


def _edit_annotations(root: Path) -> None:
    """Every kind of annotation change, made by hand on the JSON, as an annotator would."""
    path = _ann(root)
    data = json.loads(path.read_text("utf-8"))
    text = _text(root)
    data["entities"].append(entity(text, DOC, "e7", "Beijing", "GPE", "beijing"))
    data["canonical_entities"].append({"id": "beijing", "name": "Beijing", "label": "GPE", "kb_ids": []})
    data["bias_markers"] = []
    e2 = next(s for s in data["entities"] if s["id"] == f"{DOC}:e2")
    e2.update(label="LOC", gpe_role=None)
    next(s for s in data["entities"] if s["id"] == f"{DOC}:e3")["id"] = f"{DOC}:e30"
    data["claims"][0]["certainty"] = "probable"
    data["document_labels"] = DOC_LABELS
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def test_diff_between_two_revisions_lists_exactly_the_changes(released: Path, tmp_path: Path) -> None:
    _edit_annotations(released)
    received = tmp_path / "new.txt"
    received.write_text("Beijing said ASML would ship.\n", "utf-8")
    assert run_chipwar("intake", str(received), "--doc-id", "new-doc", "--rights", "Test text.", "--corpus", str(released)).returncode == 0
    new_text = _text(released, "new-doc")
    write_set(released, "bob", annotation_file("new-doc", new_text, annotator="bob",
                                               entities=[entity(new_text, "new-doc", "e1", "ASML", "ORG", "asml")]))
    git(released, "rm", "-q", f"corpus/{GONE}.txt", f"corpus/{GONE}.json")
    assert run_chipwar("generate", "--corpus", str(released)).returncode == 0
    assert run_chipwar("validate", str(released)).returncode == 0
    git(released, "add", "--all")
    git(released, "commit", "-qm", "changes")

    diff = _diff(released, "v0.1.0", "HEAD")
    assert [(d["doc_id"], d["change"]) for d in diff["documents"]] == [("new-doc", "added"), (GONE, "removed")]
    assert [(f["set_name"], f["doc_id"], f["change"]) for f in diff["files"]] == [("bob", "new-doc", "added")]
    assert _rows(diff) == {
        ("alice", DOC, "entities", "added", f"{DOC}:e7", None, "{}"),
        ("alice", DOC, "canonical_entities", "added", "beijing", None, "{}"),
        ("alice", DOC, "bias_markers", "removed", f"{DOC}:b1", None, "{}"),
        ("alice", DOC, "entities", "changed", f"{DOC}:e2", "id", json.dumps({"gpe_role": ["government", None], "label": ["GPE", "LOC"]})),
        ("alice", DOC, "entities", "changed", f"{DOC}:e30", "span", json.dumps({"id": [f"{DOC}:e3", f"{DOC}:e30"]})),
        ("alice", DOC, "claims", "changed", f"{DOC}:c1", "id", json.dumps({"certainty": ["certain", "probable"]})),
        ("alice", DOC, "document_labels", "added", None, None, "{}"),
        ("bob", "new-doc", "entities", "added", "new-doc:e1", None, "{}"),
        ("bob", "new-doc", "canonical_entities", "added", "asml", None, "{}"),
    }
    assert diff["label_deltas"] == {
        "alice": {"bias_markers": {"loaded_language": -1}, "entities": {"LOC": 1},
                  "document_labels": {"genre=news_report": 1, "primary_frame=security_defense": 1, "tone=negative": 1}},
        "bob": {"entities": {"ORG": 1}},
    }
    assert diff["schema"] == [] and diff["required_bump"] == "minor"

    text = run_chipwar("diff", "v0.1.0", "HEAD", "--corpus", str(released))
    assert text.returncode == 0
    out = text.stdout
    assert "Dataset diff: v0.1.0 → HEAD" in out and "  + new-doc" in out and f"  - {GONE}" in out
    assert "Annotations: 5 added, 1 removed, 3 changed" in out
    assert f"{DOC}:e30 (matched by span and label)" in out and "label: 'GPE' → 'LOC'" in out
    assert "needs at least a minor version" in out


def test_default_is_last_tag_against_working_tree(released: Path) -> None:
    path = _ann(released)
    data = json.loads(path.read_text("utf-8"))
    data["bias_markers"][0]["intensity"] = "high"
    path.write_text(json.dumps(data, indent=2) + "\n", "utf-8")  # not committed
    diff = _diff(released)
    assert (diff["a"], diff["b"]) == ("v0.1.0", "working tree")
    assert _rows(diff) == {("alice", DOC, "bias_markers", "changed", f"{DOC}:b1", "id", json.dumps({"intensity": ["medium", "high"]}))}
    assert diff["required_bump"] == "patch" and diff["label_deltas"] == {}


def test_before_the_first_release_everything_is_new(git_corpus: Path) -> None:
    diff = _diff(start_history(git_corpus))
    assert diff["a"] == "nothing (no release yet)"
    assert sorted(d["doc_id"] for d in diff["documents"] if d["change"] == "added") == sorted(
        p.stem for p in (git_corpus / "corpus").glob("*.txt"))
    assert {d["change"] for d in diff["documents"]} == {"added"} and diff["required_bump"] == "minor"


def test_no_difference_and_bad_revisions(released: Path) -> None:
    same = run_chipwar("diff", "v0.1.0", "HEAD", "--corpus", str(released))
    assert same.returncode == 0 and "No differences" in same.stdout
    assert _diff(released, "v0.1.0", "HEAD")["counts"] == {}
    bad = run_chipwar("diff", "v9.9.9", "--corpus", str(released))
    assert bad.returncode == 2 and "'v9.9.9' is not a revision or tag of this repository, nor a release it records" in bad.stderr
    assert run_chipwar("diff", "HEAD~9", "--corpus", str(released)).returncode == 2


def test_text_correction_shows_edits_and_moved_spans(released: Path, tmp_path: Path) -> None:
    old = _text(released)
    new = old.replace("possession at least", "possession of at least").replace("This article is more than 1 year old\n\n", "")
    corrected = tmp_path / "fixed.txt"
    corrected.write_text(new, "utf-8")
    fix = run_chipwar("reanchor", DOC, str(corrected), "--reason", "typo", "--corpus", str(released))
    assert fix.returncode == 0, fix.stdout + fix.stderr
    git(released, "commit", "-qam", "correct the text")
    diff = _diff(released, "v0.1.0", "HEAD")
    (doc,) = diff["documents"]
    assert doc["doc_id"] == DOC and (doc["old_length"], doc["new_length"]) == (len(old), len(new))
    assert [(e["old"], e["new"]) for e in doc["text_edits"]] == [("This article is more than 1 year old\n\n", ""), ("", " of")]
    assert sorted(doc["metadata"]) == ["corrections[0]", "intake.length_codepoints", "intake.text_sha256"]  # a correction added
    assert [(f["set_name"], sorted(f["fields"])) for f in diff["files"]] == [("alice", ["text_sha256"])]
    shift = len("This article is more than 1 year old\n\n")
    changed = {a["id"].split(":")[1]: a["fields"] for a in diff["annotations"]}
    assert set(changed) == {"e1", "e2", "e3", "c1", "b1"}  # every span moved up by the deleted first line
    assert changed["e1"] == {"start": [old.index("Huawei"), old.index("Huawei") - shift],
                             "end": [old.index("Huawei") + 6, old.index("Huawei") + 6 - shift]}
    assert changed["c1"]["text"] == [CLAIM, CLAIM.replace("possession at", "possession of at")]
    assert diff["required_bump"] == "patch"


def test_schema_changes_are_rated(released: Path) -> None:
    path = released / "schema" / "annotations.schema.json"
    schema = json.loads(path.read_text("utf-8"))
    labels = schema["$defs"]["EntityLabel"]["oneOf"]
    schema["$defs"]["EntityLabel"]["oneOf"] = [o for o in labels if o["const"] != "LANGUAGE"]
    schema["$defs"]["Zone"]["properties"]["confidence"] = {"type": "number"}
    schema["$defs"]["ZoneLabel"]["oneOf"][0]["description"] = "The headline of the article."
    path.write_text(json.dumps(schema, indent=2) + "\n", "utf-8")
    diff = _diff(released)
    assert [(s["level"], s["pointer"], s["message"]) for s in diff["schema"]] == [
        ("patch", "/$defs/ZoneLabel/oneOf/0/description", "description changed from \"The article's headline.\" to 'The headline of the article.'"),
        ("major", f"/$defs/EntityLabel/oneOf/{[o['const'] for o in labels].index('LANGUAGE')}", "label 'LANGUAGE' removed"),
        ("minor", "/$defs/Zone/properties/confidence", "optional field 'confidence' added"),
    ]
    assert diff["required_bump"] == "major"


# --- Attribution chains and restatements: compared field by field, and files of schema 1.0.0 on the old side ---

RELAYED = "Huawei has taken possession"
CHAINED = "is building a minimum of three others"


def _chained_file(text: str, **changes: object) -> dict:
    """An annotation file of DOC whose claims c1 and c2 restate each other; c1 relayed Huawei → Reuters."""
    c1 = span_at(text, DOC, "c1", RELAYED, "event_property", **{
        **CLAIM_ATTRS, "claimant_type": "entity", "claimant_id": "huawei", "attribution_form": "reported", "restates": [f"{DOC}:c2"],
        "attribution_chain": [chain_link(text, "named_organization", "huawei", "Huawei"), chain_link(text, "named_organization", "reuters", None)]})
    c2 = span_at(text, DOC, "c2", CHAINED, "event_property", **{**CLAIM_ATTRS, "restates": [f"{DOC}:c1"]})
    c1.update(changes)
    return annotation_file(DOC, text, claims=[c1, c2], entities=[entity(text, DOC, "e1", "Huawei", "ORG", "huawei"),
                                                                 entity(text, DOC, "e2", "Reuters", "ORG", "reuters")])


def _file_sides(old: dict, new: dict) -> tuple[Side, Side]:
    path = f"annotations/gold/{DOC}.json"
    return _side("old", {path: json.dumps(old).encode()}), _side("new", {path: json.dumps(new).encode()})


def test_chain_and_restates_changes_are_listed_field_by_field(corpus_copy: Path) -> None:
    text = _text(corpus_copy)
    old = _chained_file(text)
    chain = json.loads(json.dumps(old["claims"][0]["attribution_chain"]))
    chain[1]["entity_id"] = "huawei-weekly"
    chain[0]["cue"] = chain_link(text, "named_organization", "huawei", "Huawei", occurrence=1)["cue"]
    chain.append({"kind": "anonymous", "entity_id": None, "cue": None})
    new = _chained_file(text, attribution_chain=chain, restates=[])
    diff = diff_sides(*_file_sides(old, new))
    change, added = diff.annotations
    assert (added.layer, added.change, added.id) == ("canonical_entities", "added", "huawei-weekly")
    moved = text.index("Huawei", text.index("Huawei") + 1)
    assert (change.id, change.matched_by) == (f"{DOC}:c1", "id")
    assert change.fields == {
        "attribution_chain[0].cue.start": [text.index("Huawei"), moved],
        "attribution_chain[0].cue.end": [text.index("Huawei") + 6, moved + 6],
        "attribution_chain[1].entity_id": ["reuters", "huawei-weekly"],
        "attribution_chain[2]": [None, {"kind": "anonymous", "entity_id": None, "cue": None}],
        "restates": [[f"{DOC}:c2"], []],
    }
    assert change.absent == {"attribution_chain[2]": "old"}
    shown = render_diff(diff)
    assert "attribution_chain[1].entity_id: 'reuters' → 'huawei-weekly'" in shown
    assert "attribution_chain[2]: (absent) → " in shown and "restates: " in shown
    assert diff_sides(*_file_sides(old, json.loads(json.dumps(old)))).empty


def test_a_file_of_schema_1_0_0_on_the_old_side_is_compared(corpus_copy: Path) -> None:
    """Release 1.0.0 had sourcing, source_ids and attribution_cue where 2.0.0 has the chain: shown as fields gone and added."""
    text = _text(corpus_copy)
    new = _chained_file(text)
    old = json.loads(json.dumps(new))
    old["schema_version"] = "1.0.0"
    for key in ("model", "given", "prepared", "submitted"):
        del old["annotator"][key]
    for claim in old["claims"]:
        del claim["attribution_chain"], claim["restates"]
        claim.update(attribution_cue=None, sourcing="none", source_ids=[])
    old["claims"][0].update(attribution_cue="Huawei", sourcing="named_organization", source_ids=["huawei", "reuters"])
    diff = diff_sides(*_file_sides(old, new))
    assert diff.report.problems == []
    (top,) = diff.files
    added = [f"annotator.{k}" for k in ("model", "given", "prepared", "submitted")]
    assert top.fields == {"schema_version": ["1.0.0", "2.0.0"], **{k: [None, None] for k in added}}
    assert top.absent == dict.fromkeys(added, "old")
    c1 = next(a for a in diff.annotations if a.id == f"{DOC}:c1")
    assert c1.fields["sourcing"] == ["named_organization", None] and c1.fields["attribution_chain"] == [None, new["claims"][0]["attribution_chain"]]
    assert c1.absent == {"attribution_cue": "new", "sourcing": "new", "source_ids": "new", "attribution_chain": "old", "restates": "old"}
    shown = render_diff(diff)
    assert "sourcing: 'named_organization' → (absent)" in shown and "restates: (absent) → [" in shown
    assert "annotator.model (added)" in shown
    render_json({"result": diff.to_dict()})


def test_diff_v1_0_0_works_in_this_checkout() -> None:
    """Release 1.0.0 is known here by its tag or, in a clone without tags, by the commit that recorded it; schema 2.0.0 is a major change."""
    result = run_chipwar("diff", "v1.0.0", "--format", "json", cwd=REPO)
    assert result.returncode in (0, 1), result.stdout + result.stderr  # 1: a file of the working tree another change left broken
    diff = flat(result.stdout)
    assert diff["a"] in ("v1.0.0", f"1.0.0 (commit {diff['a'].rpartition('commit ')[2][:-1]})") and diff["required_bump"] == "major"
    removed = {(s["pointer"], s["level"]) for s in diff["schema"]}
    assert {("/$defs/Claim/properties/sourcing", "major"), ("/$defs/Claim/properties/attribution_chain", "major")} <= removed


OLD = {"type": "object", "required": ["a"], "additionalProperties": False,
       "properties": {"a": {"type": "string", "minLength": 1, "description": "A."}, "b": {"type": ["string", "null"]},
                      "c": {"enum": ["x", "y"]}, "d": {"type": "string", "pattern": "^x"}}}

SCHEMA_CASES = {
    "field_removed": (lambda s: s["properties"].pop("b"), [("major", "/properties/b")]),
    "optional_field_added": (lambda s: s["properties"].update(e={"type": "string"}), [("minor", "/properties/e")]),
    "required_field_added": (lambda s: (s["properties"].update(e={"type": "string"}), s["required"].append("e")),
                             [("major", "/properties/e")]),
    "field_made_required": (lambda s: s["required"].append("b"), [("major", "/required")]),
    "field_made_optional": (lambda s: s["required"].remove("a"), [("major", "/required")]),
    "type_changed": (lambda s: s["properties"]["a"].update(type="integer"), [("major", "/properties/a/type"), ("minor", "/properties/a/type")]),
    "null_no_longer_allowed": (lambda s: s["properties"]["b"].update(type="string"), [("major", "/properties/b/type")]),
    "enum_value_added": (lambda s: s["properties"]["c"]["enum"].append("z"), [("minor", "/properties/c/enum/2")]),
    "enum_value_removed": (lambda s: s["properties"]["c"]["enum"].remove("y"), [("major", "/properties/c/enum/1")]),
    "pattern_changed": (lambda s: s["properties"]["d"].update(pattern="^y"), [("major", "/properties/d/pattern")]),
    "pattern_removed": (lambda s: s["properties"]["d"].pop("pattern"), [("minor", "/properties/d/pattern")]),
    "bound_loosened": (lambda s: s["properties"]["a"].update(minLength=0), [("minor", "/properties/a/minLength")]),
    "bound_tightened": (lambda s: s["properties"]["a"].update(minLength=3), [("major", "/properties/a/minLength")]),
    "opened": (lambda s: s.update(additionalProperties=True), [("minor", "/additionalProperties")]),
    "description_only": (lambda s: s["properties"]["a"].update(description="The a."), [("patch", "/properties/a/description")]),
    "mapping_only": (lambda s: s["properties"]["a"].update({"x-semeval": "T1"}), [("patch", "/properties/a/x-semeval")]),
}


@pytest.mark.parametrize("case", sorted(SCHEMA_CASES))
def test_schema_rating(case: str) -> None:
    change, expected = SCHEMA_CASES[case]
    new = json.loads(json.dumps(OLD))
    change(new)
    assert [(c.level, c.pointer) for c in compare_schema("s.json", OLD, new)] == expected
    assert compare_schema("s.json", OLD, json.loads(json.dumps(OLD))) == []


# --- Hostile content on either side: never an exception, unreadable files named as problems ---

_KEYS = ["id", "label", "start", "end", "text", "entities", "claims", "bias_markers", "zones", "canonical_entities", "document_labels",
         "name", "genre", "type", "required", "properties", "$defs", "enum", "oneOf", "const", "minLength", "maximum", "items",
         "additionalProperties", "description", "x-map", "pattern"]


def _value(rng: random.Random, depth: int = 0) -> object:
    """A random JSON value, shaped like ours often enough to reach deep into the comparison."""
    roll = rng.random()
    if depth > 4 or roll < 0.35:
        return rng.choice([None, True, False, 0, -1, 2**70, 1.5, "", "GPE", "x" * 300, "\u202e\U0001f600", [], {}])
    if roll < 0.6:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(_KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 6))}


def _mutate(rng: random.Random, value: object) -> object:
    """``value`` with a random sub-value replaced."""
    if isinstance(value, dict) and value and rng.random() < 0.7:
        key = rng.choice(list(value))
        return {**value, key: _mutate(rng, value[key])}
    if isinstance(value, list) and value and rng.random() < 0.7:
        i = rng.randrange(len(value))
        return [*value[:i], _mutate(rng, value[i]), *value[i + 1:]]
    return _value(rng)


def _bytes(rng: random.Random, base: object) -> bytes:
    roll = rng.random()
    if roll < 0.1:
        return rng.choice([b"\xff\xfe\x00", b"{", b"null", b"[]", b'"text"', b"[" * 300 + b"]" * 300])
    return json.dumps(_mutate(rng, base) if roll < 0.7 else _value(rng)).encode()


def _side(name: str, contents: dict[str, bytes]) -> Side:
    return Side(name, {p: blob_id(b) for p, b in contents.items()}, contents.__getitem__)


def test_diff_of_hostile_sides_never_raises(corpus_copy: Path) -> None:
    real = {p.relative_to(corpus_copy).as_posix(): p.read_bytes()
            for pattern in ("corpus/*", "annotations/gold/*.json", "schema/*.json") for p in corpus_copy.glob(pattern)}
    rng = random.Random(20261130)
    for _ in range(150):
        sides = []
        for name in ("old", "new"):
            contents = {}
            for path, data in real.items():
                if rng.random() < 0.4:
                    contents[path] = data
                elif path.endswith(".txt"):
                    contents[path] = rng.choice([data, data[:50] + b"\xff", b"changed text"])
                elif rng.random() < 0.9:
                    contents[path] = _bytes(rng, json.loads(data))
            sides.append(_side(name, contents))
        diff = diff_sides(*sides)
        render_diff(diff)
        render_json({"result": diff.to_dict()})
        assert all(p.code == "diff_unreadable" and p.file and p.message.startswith(p.file) for p in diff.report.problems)


def test_an_unreadable_file_is_named_and_the_rest_still_compared(corpus_copy: Path) -> None:
    path = f"annotations/gold/{DOC}.json"
    data = (corpus_copy / path).read_bytes()
    changed = json.loads(data)
    changed["entities"] = changed["entities"][1:]
    diff = diff_sides(_side("v1", {path: b"null", "schema/a.json": b"{}", "schema/b.json": b"{}"}),
                      _side("v2", {path: data, "schema/a.json": b"{\xff", "schema/b.json": b"{]"}))
    assert [(p.file, p.message) for p in diff.report.problems] == [
        (path, f"{path} in v1: holds null, not a JSON object; not compared"),
        ("schema/a.json", "schema/a.json in v2: not UTF-8 text (byte 1); not compared"),
        ("schema/b.json", "schema/b.json in v2: not valid JSON (unexpected character, expected a string key: line 1 column 2 (char 1)); "
                          "not compared")]
    assert diff.annotations == [] and diff.schema == []
    other = diff_sides(_side("v1", {path: data}), _side("v2", {path: json.dumps(changed).encode()}))
    assert other.report.problems == [] and [a.change for a in other.annotations] == ["removed"]


def test_schema_rating_takes_any_json() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        old = _mutate(rng, OLD) if rng.random() < 0.8 else _value(rng)
        new = _mutate(rng, old)
        changes = compare_schema("s.json", old, new)
        assert all(c.level in ("patch", "minor", "major") for c in changes)
        assert compare_schema("s.json", old, json.loads(json.dumps(old))) == []
