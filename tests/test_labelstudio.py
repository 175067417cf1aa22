"""Label Studio config, tasks and import, without a server: the export is built as Label Studio writes it.

The same import runs against the real server in test_labelstudio_server.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable

import pytest
from label_studio_sdk.label_interface import LabelInterface

from chipwar.corpus import Corpus
from chipwar.errors import DataError
from chipwar.files import dumps_json
from chipwar.labelstudio.config import MAX_CHAIN, label_config
from chipwar.labelstudio.tasks import build_tasks, span_digest
from chipwar.offsets import cp_to_utf16
from chipwar.schema import load_schemas

from .conftest import REPO, flat, git, run_chipwar
from .labelstudio_data import EMOJI_DOC, EMOJI_TEXT, add_emoji_document, export_from_predictions, region_items, task_of

GOLD_DOCS = ("reg-2023-qiming", "tfi-2021-chip-crisis")


def _import(root: Path, export: object, *args: str) -> tuple[int, dict, str]:
    path = root / "export.json"
    path.write_text(json.dumps(export, ensure_ascii=False), "utf-8")
    js = run_chipwar("labelstudio", "import", str(path), "--corpus", str(root), "--format", "json", *args)
    return js.returncode, flat(js.stdout) if js.stdout.startswith("{") else {}, js.stdout + js.stderr


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in (root / "annotations").rglob("*.json")}


def test_config_is_valid_and_lists_every_label() -> None:
    schemas = load_schemas(REPO / "schema")
    xml = label_config(schemas)
    interface = LabelInterface(xml)
    assert {"zones", "entities", "claims", "bias_markers", "genre", "org_type", "in_quote"} <= set(interface._controls)
    for label in schemas.label_names("BiasLabel") + schemas.label_names("EntityLabel"):
        assert f'value="{label}"' in xml
    assert "white-space: pre-wrap" in xml  # the text keeps its line breaks
    assert 'whenTagName="entities"' in xml and 'perRegion="true"' in xml
    cli = run_chipwar("labelstudio", "config")
    assert cli.returncode == 0 and cli.stdout == xml


def test_config_draws_chains_with_the_schemas_source_kinds() -> None:
    """Cues are regions of their own with a kind; chain positions, cue entities and restatements are relations."""
    schemas = load_schemas(REPO / "schema")
    interface = LabelInterface(label_config(schemas))
    kinds = schemas.label_names("SourceKind")
    assert kinds and interface.get_control("attribution_cues").labels == ["cue"]
    for name in ("cue_kind", *(f"source_{n}_kind" for n in range(1, MAX_CHAIN + 1))):
        assert interface.get_control(name).labels == kinds
    relations = ET.fromstring(label_config(schemas)).find("Relations")
    assert relations.get("choice") == "multiple"  # one relation per pair of regions, carrying every label
    assert [r.get("value") for r in relations] == ["claimant", "target", "speaker", *(f"source-{n}" for n in range(1, MAX_CHAIN + 1)),
                                                   "is", "restates"]


def test_tasks_carry_text_hash_and_predictions_with_our_ids(tmp_path: Path) -> None:
    out = tmp_path / "tasks.json"
    assert run_chipwar("labelstudio", "tasks", "--set", "gold", "--out", str(out)).returncode == 0
    tasks = json.loads(out.read_text("utf-8"))
    assert [t["data"]["doc_id"] for t in tasks] == list(GOLD_DOCS)
    interface = LabelInterface(label_config(load_schemas(REPO / "schema")))
    for task in tasks:
        gold = json.loads((REPO / "annotations/gold" / f"{task['data']['doc_id']}.json").read_text("utf-8"))
        assert task["data"]["text"] == (REPO / "corpus" / f"{gold['doc_id']}.txt").read_text("utf-8")
        assert task["data"]["text_sha256"] == gold["text_sha256"]
        result = task["predictions"][0]["result"]
        ids = {i["id"] for i in result if i.get("from_name") in ("zones", "entities", "claims", "bias_markers")}
        assert all(re.fullmatch(r"-?[A-Za-z_][A-Za-z0-9_-]*", i["id"]) for i in result if "id" in i)  # CSS identifiers
        spans = {s["id"] for layer in ("zones", "entities", "claims", "bias_markers") for s in gold[layer]}
        assert {f"{task['data']['doc_id']}:{rid}" for rid in ids} == spans
        cues = {(i["value"]["start"], i["value"]["end"]) for i in result if i.get("from_name") == "attribution_cues"}
        assert cues == {(link["cue"]["start"], link["cue"]["end"]) for c in gold["claims"] for link in c["attribution_chain"] if link["cue"]}
        assert interface.validate_prediction(task["predictions"][0], return_errors=True) == []


def test_a_pair_of_regions_has_one_relation_with_every_label(corpus_copy: Path) -> None:
    """Label Studio keeps one relation per pair: c2's claimant and its uncued original source are the same mention."""
    add_emoji_document(corpus_copy)
    [task] = [t for t in build_tasks(Corpus(corpus_copy), "gold") if t["data"]["doc_id"] == EMOJI_DOC]
    relations = [i for i in task["predictions"][0]["result"] if i["type"] == "relation"]
    pairs = [(r["from_id"], r["to_id"]) for r in relations]
    assert len(pairs) == len(set(pairs)) and not {(b, a) for a, b in pairs} & set(pairs)
    by_pair = {(r["from_id"], r["to_id"]): r["labels"] for r in relations}
    assert by_pair[("c2", "e1")] == ["claimant", "source-1"]
    assert by_pair[("c1", "c2")] == ["restates"]
    assert LabelInterface(label_config(load_schemas(corpus_copy / "schema"))).validate_prediction(
        task["predictions"][0], return_errors=True) == []


def test_round_trip_is_lossless(corpus_copy: Path) -> None:
    add_emoji_document(corpus_copy)
    before = {d: json.loads((corpus_copy / "annotations/gold" / f"{d}.json").read_text("utf-8")) for d in (*GOLD_DOCS, EMOJI_DOC)}
    rc, out, text = _import(corpus_copy, export_from_predictions(corpus_copy), "--annotator", "alice")
    assert rc == 0, text
    assert sorted(out["written"]) == [f"annotations/alice/{d}.json" for d in sorted(before)]
    for doc_id, gold in before.items():
        back = json.loads((corpus_copy / "annotations/alice" / f"{doc_id}.json").read_text("utf-8"))
        assert back["annotator"] == {"name": "alice", "kind": "person", "description": back["annotator"]["description"],
                                     "model": None, "given": None, "prepared": None, "submitted": None}
        assert {k: v for k, v in back.items() if k != "annotator"} == {k: v for k, v in gold.items() if k != "annotator"}
    assert run_chipwar("validate", str(corpus_copy / "annotations/alice")).returncode == 0
    c1, c2, c3 = before[EMOJI_DOC]["claims"]  # what the emoji document must exercise for the round trip to prove anything
    assert [link["cue"]["text"] for link in c1["attribution_chain"]] == ["Huawei said", "新华社 carried the statement"]
    assert "\n" in EMOJI_TEXT[c1["end"]:c1["attribution_chain"][1]["cue"]["start"]]  # the second cue is in another sentence
    assert (c1["restates"], c2["restates"]) == ([c2["id"]], [c1["id"]])
    assert [(link["entity_id"], link["cue"]) for link in c2["attribution_chain"]] == [("huawei", None), (None, None)]
    assert c3["attribution_chain"][0]["entity_id"] is None and c3["attribution_chain"][0]["cue"]["text"] == "analysts say"


def test_changed_span_gets_labelstudio_provenance(corpus_copy: Path) -> None:
    export = export_from_predictions(corpus_copy)
    task = task_of(export, "reg-2023-qiming")
    polarity = next(i for i in region_items(task, "b3") if i["from_name"] == "polarity")
    polarity["value"]["choices"] = ["positive"]
    rc, _, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 0, text
    back = json.loads((corpus_copy / "annotations/alice/reg-2023-qiming.json").read_text("utf-8"))
    b3 = next(s for s in back["bias_markers"] if s["id"] == "reg-2023-qiming:b3")
    assert b3["polarity"] == "positive"
    assert b3["provenance"] == {"agent": "alice", "origin": "labelstudio", "created": "2026-11-30T10:05:00Z"}


def test_utf16_offsets_after_an_emoji_are_repaired_and_reported(corpus_copy: Path) -> None:
    add_emoji_document(corpus_copy)
    export = export_from_predictions(corpus_copy)
    for item in region_items(task_of(export, EMOJI_DOC), "e1"):  # as a resize with the handles stores it
        start, end = item["value"]["start"], item["value"]["end"]
        item["value"].update(start=cp_to_utf16(EMOJI_TEXT, start), end=cp_to_utf16(EMOJI_TEXT, end))
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 0, text
    assert len(out["repaired"]) == 1 and "region e1 " in out["repaired"][0] and "UTF-16" in out["repaired"][0]
    back = json.loads((corpus_copy / "annotations/alice" / f"{EMOJI_DOC}.json").read_text("utf-8"))
    e1 = next(s for s in back["entities"] if s["id"] == f"{EMOJI_DOC}:e1")
    assert EMOJI_TEXT[e1["start"]:e1["end"]] == "Huawei" == e1["text"]


def _redraw(task: dict, old: str, new: str) -> None:
    """Give a region the id Label Studio gives one drawn by hand (its relations follow), as if it were drawn anew."""
    for item in task["annotations"][0]["result"]:
        for key in ("id", "from_id", "to_id"):
            if item.get(key) == old:
                item[key] = new


def test_a_drawn_span_keeps_its_id_across_pulls_and_a_deleted_id_is_never_given_again(corpus_copy: Path) -> None:
    export = export_from_predictions(corpus_copy)
    task = task_of(export, "reg-2023-qiming")
    _redraw(task, "e6", "Xk3_p9Qa-b")
    _redraw(task, "c2", "c7RtLm0q2w")  # a Label Studio id that already starts with the claims' prefix is kept as it is
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 0, text
    assert any("region Xk3_p9Qa-b (entities" in n and n.endswith("becomes reg-2023-qiming:e-Xk3_p9Qa-b") for n in out["notices"])
    path = corpus_copy / "annotations/alice/reg-2023-qiming.json"
    ids = {s["id"] for layer in ("entities", "claims") for s in json.loads(path.read_text("utf-8"))[layer]}
    assert {"reg-2023-qiming:e-Xk3_p9Qa-b", "reg-2023-qiming:c7RtLm0q2w"} <= ids and "reg-2023-qiming:e6" not in ids
    before = _snapshot(corpus_copy)
    again = run_chipwar("labelstudio", "import", str(corpus_copy / "export.json"), "--annotator", "alice", "--corpus", str(corpus_copy))
    assert again.returncode == 0 and _snapshot(corpus_copy) == before, again.stderr
    assert "nothing changed since the last import; no file written (2 unchanged)" in again.stdout
    _redraw(task, "Xk3_p9Qa-b", "Pq8_zZ1n-0")  # deleted, and another region drawn where it was
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice", "--replace")
    assert rc == 0, text
    ids = {s["id"] for s in json.loads(path.read_text("utf-8"))["entities"]}
    assert "reg-2023-qiming:e-Pq8_zZ1n-0" in ids and "reg-2023-qiming:e-Xk3_p9Qa-b" not in ids


def test_regions_of_a_project_pushed_with_document_prefixed_ids_keep_their_ids(corpus_copy: Path) -> None:
    export = export_from_predictions(corpus_copy)
    for task in export:
        for item in task["annotations"][0]["result"]:
            for key in ("id", "from_id", "to_id"):
                if key in item and not item[key].startswith("document-"):
                    item[key] = f"{task['data']['doc_id']}:{item[key]}"
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 0 and out["notices"] == [], text
    for doc_id in GOLD_DOCS:
        back = json.loads((corpus_copy / "annotations/alice" / f"{doc_id}.json").read_text("utf-8"))
        assert {k: v for k, v in back.items() if k != "annotator"} == {k: v for k, v in _gold(corpus_copy, doc_id).items() if k != "annotator"}


def _wrong_text(export: list) -> None:
    item = region_items(task_of(export, "reg-2023-qiming"), "e6")[0]
    item["value"]["text"] = "Huawe"


def _unknown_label(export: list) -> None:
    region_items(task_of(export, "reg-2023-qiming"), "e6")[0]["value"]["labels"] = ["COMPANY"]


def _dangling_relation(export: list) -> None:
    task = task_of(export, "reg-2023-qiming")
    task["annotations"][0]["result"].append({"from_id": "b3", "to_id": "no-such-region", "type": "relation",
                                             "direction": "right", "labels": ["target"]})


def _region_id_with_a_colon(export: list) -> None:
    _redraw(task_of(export, "reg-2023-qiming"), "e6", "tfi-2021-chip-crisis:e6")  # not this document's prefix


def _changed_text(export: list) -> None:
    task_of(export, "tfi-2021-chip-crisis")["data"]["text"] += " (edited in Label Studio)"


def _ambiguous_offsets(export: list) -> None:
    for item in region_items(task_of(export, "reg-2023-qiming"), "e6"):
        item["value"].update(start=item["value"]["start"] + 3, end=item["value"]["end"] + 3)


def _attribute_of_another_layer(export: list) -> None:
    item = region_items(task_of(export, "reg-2023-qiming"), "e6")[0]
    export_item = {"id": item["id"], "from_name": "source_1_kind", "to_name": "text", "type": "choices",
                   "value": {"start": item["value"]["start"], "end": item["value"]["end"], "choices": ["anonymous"]}}
    task_of(export, "reg-2023-qiming")["annotations"][0]["result"].append(export_item)


#: case -> (breaker, problem code, doc id, region id, pointer prefix into the export)
BAD_EXPORTS = {
    "attribute_of_another_layer": (_attribute_of_another_layer, "attribute_wrong_layer", "reg-2023-qiming", "e6",
                                   "/0/annotations/0/result/"),
    "wrong_span_text": (_wrong_text, "offset_text_mismatch", "reg-2023-qiming", "e6", "/0/annotations/0/result/"),
    "shifted_offsets": (_ambiguous_offsets, "offset_text_mismatch", "reg-2023-qiming", "e6", "/0/annotations/0/result/"),
    "unknown_label": (_unknown_label, "unknown_label", "reg-2023-qiming", "e6", "/0/annotations/0/result/"),
    "dangling_relation": (_dangling_relation, "dangling_relation", "reg-2023-qiming", "b3", "/0/annotations/0/result/"),
    "region_id_not_an_identifier": (_region_id_with_a_colon, "bad_region_id", "reg-2023-qiming", None, "/0/annotations/0/result/"),
    "changed_task_text": (_changed_text, "task_text_changed", "tfi-2021-chip-crisis", None, "/1/data/text"),
}


@pytest.mark.parametrize("case", sorted(BAD_EXPORTS))
def test_bad_export_is_refused_and_nothing_written(case: str, corpus_copy: Path) -> None:
    breaker, code, doc_id, annotation_id, where = BAD_EXPORTS[case]
    export = export_from_predictions(corpus_copy)
    breaker(export)
    before = _snapshot(corpus_copy)
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 1
    assert _snapshot(corpus_copy) == before
    hits = [p for p in out["problems"] if p["code"] == code]
    assert hits, out["problems"]
    assert hits[0]["doc_id"] == doc_id
    assert hits[0]["file"] == str(corpus_copy / "export.json") and hits[0]["pointer"].startswith(where)
    if annotation_id:  # named as the annotator finds it: the task, the region's id, its label and its text
        assert hits[0]["annotation_id"] == annotation_id
        assert re.search(rf"\[Label Studio task 1 \({doc_id}\), region {annotation_id}: '[^']+' '[^']+'\]$", hits[0]["message"])
    human = run_chipwar("labelstudio", "import", str(corpus_copy / "export.json"), "--annotator", "alice",
                        "--corpus", str(corpus_copy))
    assert human.returncode == 1 and f"[{code}]" in human.stdout and "nothing written" in human.stderr


def test_json_min_export_is_refused(corpus_copy: Path) -> None:
    task = build_tasks(Corpus(corpus_copy), "gold")[0]
    minimal = [{"id": 1, **task["data"], "entities": [{"start": 0, "end": 4, "text": "This", "labels": ["ORG"]}]}]
    rc, _, text = _import(corpus_copy, minimal, "--annotator", "alice")
    assert rc == 2 and "JSON_MIN" in text and not (corpus_copy / "annotations/alice").exists()


def test_existing_file_is_never_overwritten_silently(corpus_copy: Path) -> None:
    export = export_from_predictions(corpus_copy)
    _unknown = region_items(task_of(export, "reg-2023-qiming"), "b3")
    next(i for i in _unknown if i["from_name"] == "intensity")["value"]["choices"] = ["high"]
    gold = corpus_copy / "annotations/gold/reg-2023-qiming.json"
    before = gold.read_bytes()
    rc, out, text = _import(corpus_copy, export, "--annotator", "gold")
    assert rc == 1 and out["conflicts"] == ["annotations/gold/reg-2023-qiming.json", "annotations/gold/tfi-2021-chip-crisis.json"]
    assert gold.read_bytes() == before
    rc, out, text = _import(corpus_copy, export, "--annotator", "gold", "--replace")
    assert rc == 0, text
    assert '"intensity": "high"' in gold.read_text("utf-8")


def test_several_annotators_need_a_user(corpus_copy: Path) -> None:
    export = export_from_predictions(corpus_copy, completed_by={"id": 1, "email": "ann@example.org"})
    for task in export:
        second = json.loads(json.dumps(task["annotations"][0]))
        second.update(id=100 + task["id"], completed_by={"id": 2, "email": "bob@example.org"})
        task["annotations"].append(second)
    rc, out, _ = _import(corpus_copy, export, "--annotator", "bob")
    assert rc == 1 and {p["code"] for p in out["problems"]} == {"several_annotators"}
    rc, out, text = _import(corpus_copy, export, "--annotator", "bob", "--user", "bob@example.org")
    assert rc == 0, text
    back = json.loads((corpus_copy / "annotations/bob/reg-2023-qiming.json").read_text("utf-8"))
    assert "bob@example.org" in back["annotator"]["description"]


@pytest.mark.parametrize("completed_by", [7, {"id": 7, "email": "ann@example.org"}], ids=["export_from_the_browser", "pull"])
def test_user_is_matched_by_email_or_id_and_an_unknown_one_names_the_users_there(completed_by: object, corpus_copy: Path) -> None:
    export = export_from_predictions(corpus_copy, completed_by=completed_by)
    before = _snapshot(corpus_copy)
    rc, out, _ = _import(corpus_copy, export, "--annotator", "ann", "--user", "bob@example.org")
    [problem] = out["problems"]
    assert rc == 1 and out["written"] == [] and _snapshot(corpus_copy) == before
    assert problem["code"] == "unknown_user" and problem["found"] == ("7" if completed_by == 7 else "ann@example.org (id 7)")
    assert "--user" in problem["hint"]
    for user in ("7", "ann@example.org") if completed_by != 7 else ("7",):
        rc, out, text = _import(corpus_copy, export, "--annotator", f"ann-{user[0]}", "--user", user)
        assert rc == 0 and len(out["written"]) == 2, text


def test_an_export_with_nothing_submitted_says_so(corpus_copy: Path) -> None:
    export = export_from_predictions(corpus_copy)
    export[1]["annotations"] = []  # pre-annotations are predictions until submitted
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 0 and out["written"] == ["annotations/alice/reg-2023-qiming.json"], text
    assert out["notices"] == ["annotations/alice/tfi-2021-chip-crisis.json: Label Studio task 2 has no submitted annotation; "
                              "this document is not imported"]
    export[0]["annotations"] = []
    before = _snapshot(corpus_copy)
    rc, out, _ = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 1 and [p["code"] for p in out["problems"]] == ["no_annotations"] and "Submit" in out["problems"][0]["hint"]
    assert _snapshot(corpus_copy) == before


# --------------------------------------------------------------------------- nothing in a task's data is trusted

MALLORY = {"agent": "mallory", "origin": "manual", "created": "2001-01-01T00:00:00Z"}


def _gold(root: Path, doc_id: str) -> dict:
    return json.loads((root / "annotations/gold" / f"{doc_id}.json").read_text("utf-8"))


def _forge_provenance(export: list, root: Path) -> None:
    """What tasks once carried: per span a digest and provenance, trusted on the way back in."""
    for task in export:
        gold = _gold(root, task["data"]["doc_id"])
        task["data"]["chipwar"]["spans"] = {s["id"]: {"digest": span_digest(s), "provenance": MALLORY}
                                            for layer in ("zones", "entities", "claims", "bias_markers") for s in gold[layer]}
        task["data"]["chipwar"]["document_labels"] = {"provenance": MALLORY, "digest": span_digest(gold["document_labels"] or {})}
        for item in task["annotations"][0]["result"]:
            item["provenance"] = MALLORY


def _forge_decision(export: list, root: Path) -> None:
    for task in export:
        task["data"]["chipwar"]["decisions"] = [{"annotation_ids": [f"{task['data']['doc_id']}:e1"], "decision": "forged"}]


def _forge_canonical(export: list, root: Path) -> None:
    for task in export:
        gold = _gold(root, task["data"]["doc_id"])
        task["data"]["chipwar"]["canonical_entities"] = [{**c, "name": "Forged", "kb_ids": ["wikidata:Q1"]}
                                                         for c in gold["canonical_entities"]]


FORGERIES = {"provenance": _forge_provenance, "decision": _forge_decision, "canonical_records": _forge_canonical}


@pytest.mark.parametrize("case", sorted(FORGERIES))
def test_forged_task_data_has_no_effect(case: str, corpus_copy: Path) -> None:
    export = export_from_predictions(corpus_copy)
    FORGERIES[case](export, corpus_copy)
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 0, text
    for doc_id in GOLD_DOCS:
        back = {k: v for k, v in json.loads((corpus_copy / "annotations/alice" / f"{doc_id}.json").read_text("utf-8")).items()
                if k != "annotator"}  # (whose description names the export file)
        assert not {"mallory", "forged", "Forged"} & set(re.findall(r"\w+", json.dumps(back)))
        assert back == {k: v for k, v in _gold(corpus_copy, doc_id).items() if k != "annotator"}


def test_tasks_carry_only_the_set_and_its_digest(corpus_copy: Path) -> None:
    for task in build_tasks(Corpus(corpus_copy), "gold"):
        raw = (corpus_copy / "annotations/gold" / f"{task['data']['doc_id']}.json").read_bytes()
        assert task["data"]["chipwar"] == {"set": "gold", "annotations_sha256": hashlib.sha256(raw).hexdigest()}


def test_tasks_carry_the_title_and_publisher_the_task_list_shows_and_null_stays_null(corpus_copy: Path) -> None:
    add_emoji_document(corpus_copy)  # its metadata has neither
    shown = {t["data"]["doc_id"]: (t["data"]["title"], t["data"]["publisher"]) for t in build_tasks(Corpus(corpus_copy), "gold")}
    assert shown == {"reg-2023-qiming": ("China cooks covert chips, recruits global geeks to dodge US restrictions", "The Register"),
                     "tfi-2021-chip-crisis": ("The great China chip crisis is a personal embarrassment for Xi Jinping", "TFI Global News"),
                     EMOJI_DOC: (None, None)}


def test_a_document_whose_metadata_cannot_be_read_makes_no_tasks(corpus_copy: Path) -> None:
    (corpus_copy / "corpus/reg-2023-qiming.json").write_text("{not json", "utf-8")
    with pytest.raises(DataError, match=r"corpus/reg-2023-qiming.json: missing or not valid JSON"):
        build_tasks(Corpus(corpus_copy), "gold")


@pytest.mark.parametrize("forged", [{"set": "gold", "annotations_sha256": "0" * 64}, {"set": "../corpus", "annotations_sha256": "0" * 64},
                                    {"set": "pass-1", "annotations_sha256": None}, "gold", None])
def test_a_source_the_repository_cannot_confirm_gives_the_annotator_provenance(forged: object, corpus_copy: Path) -> None:
    """A task whose record of its set does not match the repository's file: nothing of that file is kept, and it is said."""
    export = export_from_predictions(corpus_copy)
    for task in export:
        task["data"]["chipwar"] = forged
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 0, text
    if forged is not None:
        warned = [p for p in out["problems"] if p["code"] == "task_source_unverified"]
        assert len(warned) == 2 and {p["severity"] for p in warned} == {"warning"}
        assert [p["pointer"] for p in warned] == ["/0/data/chipwar", "/1/data/chipwar"]
    for doc_id in GOLD_DOCS:
        back = json.loads((corpus_copy / "annotations/alice" / f"{doc_id}.json").read_text("utf-8"))
        spans = [s for layer in ("zones", "entities", "claims", "bias_markers") for s in back[layer]]
        assert {s["provenance"]["agent"] for s in spans} == {"alice"} and back["decisions"] == []
        assert all(c["kb_ids"] == [] for c in back["canonical_entities"])


def test_gold_changed_after_the_push_is_not_used(corpus_copy: Path) -> None:
    export = export_from_predictions(corpus_copy)
    path = corpus_copy / "annotations/gold/reg-2023-qiming.json"
    gold = json.loads(path.read_text("utf-8"))
    gold["decisions"].append({"annotation_ids": [], "decision": "added after the push"})
    path.write_text(json.dumps(gold, ensure_ascii=False, indent=2) + "\n", "utf-8")
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 0, text
    assert [p["doc_id"] for p in out["problems"] if p["code"] == "task_source_unverified"] == ["reg-2023-qiming"]
    back = json.loads((corpus_copy / "annotations/alice/reg-2023-qiming.json").read_text("utf-8"))
    assert back["decisions"] == [] and back["entities"][0]["provenance"]["agent"] == "alice"


def test_unchanged_span_keeps_the_provenance_the_repository_records(corpus_copy: Path) -> None:
    """Importing into a set that has the file: an unchanged span keeps that file's provenance, whatever the task says."""
    export = export_from_predictions(corpus_copy)
    assert _import(corpus_copy, export, "--annotator", "alice")[0] == 0
    path = corpus_copy / "annotations/alice/reg-2023-qiming.json"
    mine = json.loads(path.read_text("utf-8"))
    recorded = {"agent": "alice-in-the-repository", "origin": "manual", "created": "2026-01-02T03:04:05Z"}
    mine["entities"][0]["provenance"] = recorded
    mine["decisions"] = [{"annotation_ids": [mine["entities"][0]["id"]], "decision": "kept by alice"}]
    path.write_bytes(dumps_json(mine))
    before = path.read_bytes()
    _forge_provenance(export, corpus_copy)
    _forge_decision(export, corpus_copy)
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 0, text
    assert out["unchanged"] == ["annotations/alice/reg-2023-qiming.json", "annotations/alice/tfi-2021-chip-crisis.json"]
    assert path.read_bytes() == before


def _doc_id_is_a_path(export: list) -> None:
    export[0]["data"]["doc_id"] = "../corpus/reg-2023-qiming"


def _unknown_document(export: list) -> None:
    export[0]["data"]["doc_id"] = "no-such-document"


def _doc_id_of_another_document(export: list) -> None:
    export[0]["data"]["doc_id"] = "tfi-2021-chip-crisis"  # the text is still the first document's


REFUSED_TASKS = {
    "doc_id_is_a_path": (_doc_id_is_a_path, "bad_doc_id", None),
    "unknown_document": (_unknown_document, "missing_document", "no-such-document"),
    "doc_id_of_another_document": (_doc_id_of_another_document, "task_text_changed", "tfi-2021-chip-crisis"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_TASKS))
def test_task_for_a_document_it_does_not_hold_is_refused(case: str, corpus_copy: Path) -> None:
    breaker, code, doc_id = REFUSED_TASKS[case]
    export = export_from_predictions(corpus_copy)
    breaker(export)
    before = {p.relative_to(corpus_copy.parent): p.read_bytes() for p in corpus_copy.parent.rglob("*") if p.is_file() and p.name != "export.json"}
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 1, text
    [hit] = [p for p in out["problems"] if p["code"] == code]
    assert hit["pointer"].startswith("/0/data/") and hit["doc_id"] == doc_id
    after = {p.relative_to(corpus_copy.parent): p.read_bytes() for p in corpus_copy.parent.rglob("*") if p.is_file() and p.name != "export.json"}
    assert after == before and out["written"] == []


# --------------------------------------------------------------------------- attribution chains and restatements



def _emoji_export(root: Path) -> tuple[list[dict], list[dict]]:
    """The emoji document's task alone, submitted unchanged, and its result items."""
    add_emoji_document(root)
    export = [task_of(export_from_predictions(root), EMOJI_DOC)]
    return export, export[0]["annotations"][0]["result"]


def _relation(result: list[dict], a: str, b: str) -> dict:
    return next(i for i in result if i["type"] == "relation" and (i["from_id"], i["to_id"]) == (a, b))


def _relate(result: list[dict], a: str, b: str, *labels: str) -> None:
    result.append({"from_id": a, "to_id": b, "type": "relation", "direction": "right", "labels": list(labels)})


def _drop(result: list[dict], pick: Callable[[dict], bool]) -> None:
    result.remove(next(i for i in result if pick(i)))


def _kind_item(region: str, name: str) -> Callable[[dict], bool]:
    return lambda i: i.get("id") == region and i.get("from_name") == name


def _choose(result: list[dict], region: str, control: str, value: str) -> None:
    """A per-region choice added to a region, as Label Studio stores one."""
    where = next(i for i in result if i.get("id") == region and i["type"] == "labels")["value"]
    result.append({"id": region, "from_name": control, "to_name": "text", "type": "choices",
                   "value": {"start": where["start"], "end": where["end"], "text": where["text"], "choices": [value]}})


def _split_labels(result: list[dict]) -> None:  # a hand-made export: one relation per label for the same pair
    both = _relation(result, "c2", "e1")
    both["labels"] = ["claimant"]
    _relate(result, "c2", "e1", "source-1")


#: variant -> how the relations are drawn differently, meaning the same
SAME_CLAIMS: dict[str, Callable[[list[dict]], None]] = {
    "labels_in_another_order": lambda r: _relation(r, "c2", "e1")["labels"].reverse(),
    "restates_drawn_the_other_way": lambda r: _relation(r, "c1", "c2").update(from_id="c2", to_id="c1", direction="right"),
    "restates_drawn_both_ways": lambda r: _relate(r, "c2", "c1", "restates"),
    "one_relation_per_label": _split_labels,
    "kind_also_on_the_claim": lambda r: _choose(r, "c1", "source_1_kind", "named_organization"),
}


@pytest.mark.parametrize("variant", sorted(SAME_CLAIMS))
def test_every_label_of_a_relation_is_read_however_it_is_drawn(variant: str, corpus_copy: Path) -> None:
    export, result = _emoji_export(corpus_copy)
    SAME_CLAIMS[variant](result)
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 0, text
    back = json.loads((corpus_copy / "annotations/alice" / f"{EMOJI_DOC}.json").read_text("utf-8"))
    assert back["claims"] == _gold(corpus_copy, EMOJI_DOC)["claims"]


#: case -> (breaker, problem code, region named, the result item pointed at: a relation (from, to) or a region's control)
BAD_CHAINS: dict[str, tuple[Callable[[list[dict]], None], str, str, tuple[str, str]]] = {
    "gap_in_the_chain": (lambda r: _relation(r, "c1", "cue2").update(labels=["source-3"]), "chain_gap", "c1", ("c1", "cue2")),
    "cue_without_kind": (lambda r: _drop(r, _kind_item("cue1", "cue_kind")), "source_without_kind", "c1", ("c1", "cue1")),
    "uncued_link_without_kind": (lambda r: _drop(r, _kind_item("c2", "source_1_kind")), "source_without_kind", "c2", ("c2", "e1")),
    "cue_of_no_claim": (lambda r: _drop(r, lambda i: i.get("from_id") == "c1" and i["to_id"] == "cue2"), "unlinked_cue",
                        "cue2", ("cue2", "attribution_cues")),
    "two_sources_at_one_position": (lambda r: _relate(r, "c1", "e3", "source-1"), "several_values", "c1", ("c1", "e3")),
    "cue_naming_two_entities": (lambda r: _relate(r, "cue1", "e3", "is"), "several_values", "cue1", ("cue1", "e3")),
    "two_kinds_for_a_cued_link": (lambda r: _choose(r, "c1", "source_2_kind", "anonymous"), "several_values", "c1", ("c1", "cue2")),
    "source_from_a_marker": (lambda r: _relate(r, "b1", "cue1", "source-1"), "bad_relation", "b1", ("b1", "cue1")),
    "cue_is_a_claim": (lambda r: _relate(r, "c3", "e1", "is"), "bad_relation", "c3", ("c3", "e1")),
    "claim_restates_an_entity": (lambda r: _relate(r, "c1", "e2", "restates"), "bad_relation", "c1", ("c1", "e2")),
    "kind_of_another_layer": (lambda r: _choose(r, "e2", "cue_kind", "anonymous"), "attribute_wrong_layer", "e2", ("e2", "cue_kind")),
    # found in the file the import would write, traced back to the relation that made the link
    "named_kind_without_entity": (lambda r: _drop(r, lambda i: i.get("from_id") == "cue2" and i["to_id"] == "e3"),
                                  "wrong_type", "c1", ("c1", "cue2")),
    "claim_restates_itself": (lambda r: _relate(r, "c3", "c3", "restates"), "restates_self", "c3", ("c3", "c3")),
}


@pytest.mark.parametrize("case", sorted(BAD_CHAINS))
def test_a_broken_chain_names_the_region_and_the_item_to_fix(case: str, corpus_copy: Path) -> None:
    breaker, code, region, (a, b) = BAD_CHAINS[case]
    export, result = _emoji_export(corpus_copy)
    breaker(result)
    at = next(k for k, i in enumerate(result) if (i.get("from_id"), i.get("to_id")) == (a, b)
              or (i.get("id"), i.get("from_name")) == (a, b))
    before = _snapshot(corpus_copy)
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 1 and out["written"] == [] and _snapshot(corpus_copy) == before, text
    hits = [p for p in out["problems"] if p["code"] == code]
    assert hits, out["problems"]
    assert hits[0]["doc_id"] == EMOJI_DOC and hits[0]["annotation_id"] == region
    assert re.search(rf"\[Label Studio task \d+ \({EMOJI_DOC}\), region {region}: '[^']+' '[^']+'\]$", hits[0]["message"])
    assert hits[0]["pointer"].startswith(f"/0/annotations/0/result/{at}"), (hits[0], at)
    follow_ons = [p for p in out["problems"] if p["code"] in ("claimant_mismatch", "attribution_form_mismatch")]
    assert follow_ons == [], follow_ons  # a chain left unbuilt does not also disagree with the claimant fields


def test_a_chain_longer_than_the_config_draws_is_refused_when_making_tasks(corpus_copy: Path, tmp_path: Path) -> None:
    gold = add_emoji_document(corpus_copy)
    c2 = gold["claims"][1]
    c2["attribution_chain"] += [{"kind": "anonymous", "entity_id": None, "cue": None}] * (MAX_CHAIN - 1)
    (corpus_copy / "annotations/gold" / f"{EMOJI_DOC}.json").write_bytes(dumps_json(gold))
    done = run_chipwar("labelstudio", "tasks", "--out", str(tmp_path / "t.json"), "--corpus", str(corpus_copy))
    assert done.returncode == 1 and f"{EMOJI_DOC}:c2 has a chain of {MAX_CHAIN + 1} sources" in done.stderr, done.stderr
    assert f"draws at most {MAX_CHAIN}" in done.stderr and not (tmp_path / "t.json").exists()


def test_an_annotation_without_a_time_gets_created_null(corpus_copy: Path) -> None:
    """Provenance times are the ones a program recorded; the import's own time is not when the work was done."""
    export, result = _emoji_export(corpus_copy)
    for key in ("created_at", "updated_at"):
        del export[0]["annotations"][0][key]
    next(i for i in result if _kind_item("b1", "intensity")(i))["value"]["choices"] = ["high"]
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 0, text
    back = json.loads((corpus_copy / "annotations/alice" / f"{EMOJI_DOC}.json").read_text("utf-8"))
    assert back["bias_markers"][0]["provenance"] == {"agent": "alice", "origin": "labelstudio", "created": None}
    assert back["claims"][0]["provenance"] == _gold(corpus_copy, EMOJI_DOC)["claims"][0]["provenance"]  # unchanged: kept
    assert any("no sensible submission time" in n for n in out["notices"])


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("name", ["../corpus", "Alice", "a/b", "", "-x", "x" * 300, ".git"])
def test_bad_annotator_is_refused_before_anything_is_read(name: str, corpus_copy: Path) -> None:
    """The export does not even exist: the name is what is refused, and nothing is made."""
    before, sets = _snapshot(corpus_copy), sorted(p.name for p in (corpus_copy / "annotations").iterdir())
    for command in (("import", str(corpus_copy / "missing.json")), ("pull",)):
        done = run_chipwar("labelstudio", *command, "--annotator", name, "--corpus", str(corpus_copy), "--format", "json",
                           env={"LABEL_STUDIO_URL": "", "LABEL_STUDIO_API_KEY": ""})
        error = flat(done.stdout)["error"]
        assert done.returncode == 2 and error["code"] == "usage_error" and "annotation set name" in error["message"], done.stdout
    assert _snapshot(corpus_copy) == before and sorted(p.name for p in (corpus_copy / "annotations").iterdir()) == sets


def test_bad_set_for_tasks_is_refused(corpus_copy: Path, tmp_path: Path) -> None:
    done = run_chipwar("labelstudio", "tasks", "--set", "../corpus", "--out", str(tmp_path / "t.json"), "--corpus", str(corpus_copy))
    assert done.returncode == 2 and "annotation set name" in done.stderr and not (tmp_path / "t.json").exists()


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("command", [("config",), ("tasks", "--set", "gold")], ids=["config", "tasks"])
@pytest.mark.parametrize("out", ["corpus/reg-2023-qiming.txt", "corpus/new.json", "annotations/gold", "annotations/gold/x.json",
                                 "schema", "schema/annotations.schema.json", ".", "a-folder"])
def test_out_never_touches_the_corpus(command: tuple[str, ...], out: str, corpus_copy: Path) -> None:
    (corpus_copy / "a-folder").mkdir()
    before = _tree(corpus_copy)
    done = run_chipwar("labelstudio", *command, "--out", str(corpus_copy / out), "--corpus", str(corpus_copy))
    assert done.returncode == 2, done.stdout + done.stderr
    assert ("refused" if out != "a-folder" else "is a folder") in done.stderr
    assert _tree(corpus_copy) == before


@pytest.mark.parametrize("link", ["set_folder", "file"])
def test_import_never_writes_through_a_link(link: str, corpus_copy: Path, tmp_path: Path) -> None:
    """annotations/NAME (or a file in it) that is a symbolic link would turn a write into one elsewhere: a corpus text, say."""
    outside = tmp_path / "outside"
    outside.mkdir()
    if link == "set_folder":
        (corpus_copy / "annotations/bob").symlink_to(outside)
    else:
        (corpus_copy / "annotations/bob").mkdir()
        (corpus_copy / "annotations/bob/reg-2023-qiming.json").symlink_to(corpus_copy / "corpus/reg-2023-qiming.txt")
    before = _tree(corpus_copy / "corpus")
    rc, out, text = _import(corpus_copy, export_from_predictions(corpus_copy), "--annotator", "bob", "--replace")
    assert rc == 1 and "target_is_a_link" in {p["code"] for p in out["problems"]}, text
    assert _tree(corpus_copy / "corpus") == before and list(outside.iterdir()) == []


@pytest.mark.parametrize("out", ["VERSION", "README.md", "readme.md", "CHANGELOG.md", "DATASHEET.md", "LICENSE", "pyproject.toml",
                                 "src/chipwar/__init__.py", "scripts/new.py", "tests/new.json", ".ci/new.yml"])
def test_out_never_replaces_the_checkouts_own_files(out: str, corpus_copy: Path) -> None:
    """Without git too: the top-level files and the code folders are the checkout's own, existing or not."""
    (corpus_copy / "src" / "chipwar").mkdir(parents=True)
    for name in ("VERSION", "LICENSE", "pyproject.toml", "src/chipwar/__init__.py"):
        (corpus_copy / name).write_text("the checkout's own\n", "utf-8")
    before = _tree(corpus_copy)
    for command in (("config",), ("tasks", "--set", "gold")):
        done = run_chipwar("labelstudio", *command, "--out", out, "--corpus", str(corpus_copy), cwd=corpus_copy)
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"--out {out}: refused, it would overwrite {out}, one of the checkout's own files" in done.stderr
        assert "dist/" in done.stderr and _tree(corpus_copy) == before


def test_out_never_replaces_a_file_git_tracks_but_replaces_an_earlier_output(git_corpus: Path) -> None:
    (git_corpus / "notes.txt").write_text("tracked\n", "utf-8")
    git(git_corpus, "add", "notes.txt")
    git(git_corpus, "commit", "--quiet", "-m", "notes")
    before = _tree(git_corpus)
    done = run_chipwar("labelstudio", "tasks", "--out", "notes.txt", "--corpus", str(git_corpus), cwd=git_corpus)
    assert done.returncode == 2 and "refused, it would overwrite notes.txt, a file git tracks in this checkout" in done.stderr
    assert _tree(git_corpus) == before
    for _ in range(2):  # an output git does not track, made by an earlier run, is replaced
        done = run_chipwar("labelstudio", "tasks", "--out", "tasks.json", "--corpus", str(git_corpus), cwd=git_corpus)
        assert done.returncode == 0, done.stderr
    assert json.loads((git_corpus / "tasks.json").read_text("utf-8"))[0]["data"]["doc_id"]
    assert git(git_corpus, "status", "--porcelain") == "?? tasks.json\n"


def test_out_that_is_a_folder_asks_for_a_file(corpus_copy: Path, tmp_path: Path) -> None:
    """A folder outside the checkout (even one holding it) is named as a folder, not as the corpus it contains."""
    for folder in (tmp_path, corpus_copy.parent):
        before = sorted(folder.iterdir())
        done = run_chipwar("labelstudio", "config", "--out", str(folder), "--corpus", str(corpus_copy))
        assert done.returncode == 2 and f"--out {folder}: refused, it is a folder; a file path is needed" in done.stderr
        assert "corpus" not in done.stderr.split("hint:")[0].replace(str(folder), "") and sorted(folder.iterdir()) == before
    (tmp_path / "a-file").write_text("kept\n", "utf-8")
    done = run_chipwar("labelstudio", "config", "--out", str(tmp_path / "a-file" / "config.xml"), "--corpus", str(corpus_copy))
    assert done.returncode == 2 and f"refused, {tmp_path / 'a-file'} is a file, not a folder" in done.stderr
    assert (tmp_path / "a-file").read_text("utf-8") == "kept\n"


@pytest.mark.parametrize("env, says, hint", [
    ({"LABEL_STUDIO_URL": "http://127.0.0.1:9", "LABEL_STUDIO_API_KEY": "secret-token-4711"}, "Label Studio at http://127.0.0.1:9: cannot be reached",
     "is the server running? Start the local one with `python3 scripts/labelstudio_server.py start`; check that LABEL_STUDIO_URL"),
    ({"LABEL_STUDIO_URL": "", "LABEL_STUDIO_API_KEY": ""}, "set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY",
     "python3 scripts/labelstudio_server.py run -- chipwar labelstudio"),
], ids=["no_server", "no_environment"])
def test_server_errors_say_what_to_do(env: dict, says: str, hint: str, corpus_copy: Path) -> None:
    before = _snapshot(corpus_copy)
    for command in (("push",), ("pull", "--annotator", "alice")):
        done = run_chipwar("labelstudio", *command, "--corpus", str(corpus_copy), "--format", "json", env=env)
        error = flat(done.stdout)["error"]
        assert done.returncode == 2 and error["code"] == "environment_error", done.stdout
        assert error["message"].startswith(says) and hint in error["hint"] and "secret-token" not in done.stdout + done.stderr
    assert _snapshot(corpus_copy) == before


# --------------------------------------------------------------------------- problems of the file an import would write


def _schema_problem(corpus_copy: Path, change: str) -> tuple[dict, int]:
    """Import an export whose region passes the export checks but makes a file the schema refuses."""
    export = export_from_predictions(corpus_copy)
    items = region_items(task_of(export, "reg-2023-qiming"), "e6")
    item = next(i for i in items if i["from_name"] == change)
    item["value"]["labels" if change == "entities" else "choices"] = ["NOPE"]
    before = _snapshot(corpus_copy)
    rc, out, text = _import(corpus_copy, export, "--annotator", "bob")
    assert rc == 1 and out["written"] == [] and _snapshot(corpus_copy) == before, text
    problem = next(p for p in out["problems"] if p["code"] == "unknown_label")  # the label's attributes may be refused too
    return problem, task_of(export, "reg-2023-qiming")["annotations"][0]["result"].index(item)


@pytest.mark.parametrize("change, field, value_key", [("entities", "label", "labels"), ("org_type", "org_type", "choices")])
def test_a_problem_of_the_file_to_write_points_into_the_export(change: str, field: str, value_key: str, corpus_copy: Path) -> None:
    problem, index = _schema_problem(corpus_copy, change)
    assert problem["file"] == str(corpus_copy / "export.json") and problem["doc_id"] == "reg-2023-qiming"
    assert problem["pointer"] == f"/0/annotations/0/result/{index}/value/{value_key}"
    assert problem["annotation_id"] == "e6" and problem["found"] == "'NOPE'"
    label = "NOPE" if change == "entities" else "ORG"  # what the annotator sees: the task, the region's id, label and text
    assert problem["message"].startswith(f"{field}: ") and problem["message"].endswith(
        f"[Label Studio task 1 (reg-2023-qiming), region e6: '{label}' 'Huawei']") and "annotations/bob" not in problem["message"]
    assert problem["hint"].startswith(f"in Label Studio, open task 1, fix the {field} of region e6, press Update")
    assert "schema/" not in problem["hint"]
    assert not (corpus_copy / "annotations" / "bob").exists()


@pytest.mark.parametrize("region, control", [("b3", "in_quote"), ("b3", "intensity"), ("e6", "org_type")])
def test_an_attribute_left_unset_is_a_problem_never_a_default(region: str, control: str, corpus_copy: Path) -> None:
    export = export_from_predictions(corpus_copy)
    result = task_of(export, "reg-2023-qiming")["annotations"][0]["result"]
    result.remove(next(i for i in result if (i.get("id"), i.get("from_name")) == (region, control)))
    labels_at = next(k for k, i in enumerate(result) if i.get("id") == region and i["type"] == "labels")
    rc, out, _ = _import(corpus_copy, export, "--annotator", "bob")
    [problem] = out["problems"]
    assert rc == 1 and not (corpus_copy / "annotations" / "bob").exists()
    assert (problem["code"], problem["annotation_id"], problem["found"]) == ("attribute_unset", region, "not set")
    assert problem["message"].startswith(f"{control} is not set") and "oneOf" not in problem["message"]
    assert problem["pointer"] == f"/0/annotations/0/result/{labels_at}/value/labels"
    assert problem["hint"].startswith(f"in Label Studio, open task 1, select region {region}, choose its {control}, press Update")


def test_a_document_label_left_unset_is_a_problem_never_a_default(corpus_copy: Path) -> None:
    export = export_from_predictions(corpus_copy)
    result = task_of(export, "reg-2023-qiming")["annotations"][0]["result"]
    result.remove(next(i for i in result if i.get("from_name") == "tone"))
    rc, out, _ = _import(corpus_copy, export, "--annotator", "bob")
    [problem] = out["problems"]
    assert rc == 1 and not (corpus_copy / "annotations" / "bob").exists()
    assert (problem["code"], problem["pointer"], problem["found"]) == ("attribute_unset", "/0/annotations/0/result", "not set: tone")
    assert problem["hint"].startswith("in Label Studio, open task 1, choose its tone")


def _canonical_item(export: list) -> tuple[list, dict]:
    """The result list of the long document's annotation, and the canonical-id pick of e6 (Huawei's mention)."""
    result = task_of(export, "reg-2023-qiming")["annotations"][0]["result"]
    return result, next(i for i in result if (i.get("id"), i.get("from_name")) == ("e6", "canonical_id"))


def _type_new_canonical_id(export: list, value: str) -> None:
    """Type ``value`` under 'New canonical entity' on e6, as an annotator would in the region's column."""
    result, pick = _canonical_item(export)
    result.append({**pick, "from_name": "new_canonical_id", "type": "textarea",
                   "value": {k: pick["value"][k] for k in ("start", "end")} | {"text": [value]}})


def test_every_task_offers_the_repositorys_canonical_entities_to_pick(corpus_copy: Path) -> None:
    tasks = build_tasks(Corpus(corpus_copy), "gold")
    every: dict[str, dict] = {}  # every set's records, the first of an id kept (the sets in name order, gold first)
    for path in sorted((corpus_copy / "annotations").glob("*/*.json")):
        for record in json.loads(path.read_text("utf-8"))["canonical_entities"]:
            every.setdefault(record["id"], record)
    for task in tasks:
        options = task["data"]["canonical_entities"]
        assert [o["alias"] for o in options] and {o["alias"] for o in options} == set(every)
        huawei = next(o for o in options if o["alias"] == "huawei")
        assert huawei["value"] == f"{every['huawei']['name']} · {every['huawei']['label']} · huawei"
        assert [o["value"].casefold() for o in options] == sorted(o["value"].casefold() for o in options)
    picks = [i for i in tasks[0]["predictions"][0]["result"] if i.get("from_name") == "canonical_id"]
    assert picks and all(i["type"] == "choices" and len(i["value"]["choices"]) == 1 for i in picks)


def test_a_picked_id_the_repository_no_longer_has_is_a_problem_naming_the_nearest_ids(corpus_copy: Path) -> None:
    export = export_from_predictions(corpus_copy)
    result, pick = _canonical_item(export)
    pick["value"]["choices"] = ["huawie"]
    rc, out, _ = _import(corpus_copy, export, "--annotator", "bob")
    assert rc == 1 and not (corpus_copy / "annotations" / "bob").exists()
    problem = next(p for p in out["problems"] if p["code"] == "unknown_canonical_id")
    assert problem["annotation_id"] == "e6" and problem["pointer"] == f"/0/annotations/0/result/{result.index(pick)}/value/choices"
    assert "huawei" in problem["expected"] and "(nearest: huawei" in problem["hint"] and "'New canonical entity'" in problem["hint"]
    assert problem["message"].endswith("region e6: 'ORG' 'Huawei']")


def test_a_new_canonical_id_typed_on_purpose_creates_the_entity(corpus_copy: Path) -> None:
    export = export_from_predictions(corpus_copy)
    _type_new_canonical_id(export, "huawei-hisilicon")
    rc, out, text = _import(corpus_copy, export, "--annotator", "bob")
    assert rc == 0, text
    back = json.loads((corpus_copy / "annotations/bob/reg-2023-qiming.json").read_text("utf-8"))
    assert next(e for e in back["entities"] if e["id"] == "reg-2023-qiming:e6")["canonical_id"] == "huawei-hisilicon"
    assert {"id": "huawei-hisilicon", "name": "Huawei", "label": "ORG", "kb_ids": []} in back["canonical_entities"]
    assert any("new canonical entity 'huawei-hisilicon'" in n for n in out["notices"])
    assert any("'huawei-hisilicon' replaces the picked 'huawei'" in n for n in out["notices"])


def test_a_new_canonical_id_that_is_no_id_is_a_problem_at_the_region(corpus_copy: Path) -> None:
    export = export_from_predictions(corpus_copy)
    _type_new_canonical_id(export, "Huawei Cloud")
    rc, out, _ = _import(corpus_copy, export, "--annotator", "bob")
    assert rc == 1 and not (corpus_copy / "annotations" / "bob").exists()
    assert any("region e6" in p["message"] for p in out["problems"]), out["problems"]


def test_a_canonical_id_of_another_document_is_known_and_keeps_its_record(corpus_copy: Path) -> None:
    record = next(r for r in _gold(corpus_copy, "tfi-2021-chip-crisis")["canonical_entities"] if r["id"] == "asml")
    assert record["label"] == "ORG" and "asml" not in {r["id"] for r in _gold(corpus_copy, "reg-2023-qiming")["canonical_entities"]}
    export = export_from_predictions(corpus_copy)
    _, pick = _canonical_item(export)
    pick["value"]["choices"] = ["asml"]
    rc, out, text = _import(corpus_copy, export, "--annotator", "bob")
    assert rc == 0, text
    assert record in json.loads((corpus_copy / "annotations/bob/reg-2023-qiming.json").read_text("utf-8"))["canonical_entities"]
    assert not any("new canonical entity" in n for n in out["notices"])


# --------------------------------------------------------------------------- files changed while an import runs


def _between(monkeypatch: pytest.MonkeyPatch, change: Callable[[object], None]) -> None:
    """Make ``change`` happen after the import planned and before it writes (another run, at the right moment)."""
    from chipwar.labelstudio import importer

    real = importer.plan_import

    def planned_then_changed(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)
        change(result)
        return result

    monkeypatch.setattr(importer, "plan_import", planned_then_changed)


def _write_as_planned(name: str, other: bytes | None = None) -> Callable[[object], None]:
    """Another run writes the planned file of ``name`` (exactly what this import makes, or ``other``)."""
    from chipwar.labelstudio.importer import rendered

    def change(result: object) -> None:
        path, data = next((p, d) for p, d in rendered(result).items() if p.name == name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if other is None else other)

    return change


def test_a_file_another_run_made_identical_meanwhile_is_unchanged(corpus_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _between(monkeypatch, _write_as_planned("reg-2023-qiming.json"))
    rc, out, text = _import(corpus_copy, export_from_predictions(corpus_copy), "--annotator", "bob")
    assert rc == 0 and out["conflicts"] == [], text
    assert out["unchanged"] == ["annotations/bob/reg-2023-qiming.json"] and out["written"] == ["annotations/bob/tfi-2021-chip-crisis.json"]


def test_a_file_another_run_made_different_meanwhile_is_a_conflict(corpus_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _between(monkeypatch, _write_as_planned("reg-2023-qiming.json", b'{"made": "by another run"}\n'))
    rc, out, text = _import(corpus_copy, export_from_predictions(corpus_copy), "--annotator", "bob")
    assert rc == 1 and out["written"] == [] and out["conflicts"] == ["annotations/bob/reg-2023-qiming.json"], text
    assert "conflict: annotations/bob/reg-2023-qiming.json exists and differs" in run_chipwar(
        "labelstudio", "import", str(corpus_copy / "export.json"), "--annotator", "bob", "--corpus", str(corpus_copy)).stderr
    assert sorted(p.name for p in (corpus_copy / "annotations" / "bob").iterdir()) == ["reg-2023-qiming.json"]
    assert (corpus_copy / "annotations/bob/reg-2023-qiming.json").read_bytes() == b'{"made": "by another run"}\n'


def test_conflicts_are_counted_on_the_files_as_they_are_when_writing(corpus_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both gold files differ from the import when it plans; one of them meanwhile comes to hold exactly the import's content."""
    _between(monkeypatch, _write_as_planned("reg-2023-qiming.json"))
    rc, out, text = _import(corpus_copy, export_from_predictions(corpus_copy), "--annotator", "gold")
    assert rc == 1 and out["written"] == [], text
    assert out["conflicts"] == ["annotations/gold/tfi-2021-chip-crisis.json"]
    assert out["unchanged"] == ["annotations/gold/reg-2023-qiming.json"]


def _append(rel: str) -> Callable[[object], None]:
    def change(result: object) -> None:
        path = next(iter(result.read)).parents[1] / rel  # the checkout, from a file the import read
        path.write_bytes(path.read_bytes() + b"\n")
    return change


@pytest.mark.parametrize("rel, replace", [("annotations/gold/reg-2023-qiming.json", True), ("corpus/reg-2023-qiming.txt", False)],
                         ids=["replaced_file_changed", "document_text_changed"])
def test_a_file_changed_meanwhile_stops_the_import(rel: str, replace: bool, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under --replace, a file is replaced only as it was read; and the spans were checked against the text as it was."""
    export = export_from_predictions(corpus_copy)
    next(i for i in region_items(task_of(export, "reg-2023-qiming"), "b3") if i["from_name"] == "intensity")[
        "value"]["choices"] = ["high"]
    _between(monkeypatch, _append(rel))
    rc, out, text = _import(corpus_copy, export, "--annotator", "gold", *(["--replace"] if replace else []))
    after = _snapshot(corpus_copy)
    assert rc == 2 and out["error"]["code"] == "changed_meanwhile", text
    assert out["error"]["message"].startswith(f"{rel} (was changed): changed while this command ran")
    assert "nothing written; run it again" in out["error"]["message"]
    monkeypatch.undo()
    assert _snapshot(corpus_copy) == after and b'"intensity": "high"' not in (corpus_copy / "annotations/gold/reg-2023-qiming.json").read_bytes()
