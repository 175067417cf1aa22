"""Label Studio config, tasks and import, without a server: the export is built as Label Studio writes it.

The same import runs against the real server in test_labelstudio_server.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from label_studio_sdk.label_interface import LabelInterface

from chipwar.corpus import Corpus
from chipwar.labelstudio.importer import build_tasks, label_config
from chipwar.offsets import cp_to_utf16
from chipwar.schema import load_schemas

from .conftest import REPO, flat, run_chipwar
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
    assert 'style="white-space: pre-wrap"' in xml
    assert 'whenTagName="entities"' in xml and 'perRegion="true"' in xml
    cli = run_chipwar("labelstudio", "config")
    assert cli.returncode == 0 and cli.stdout == xml


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
        ids = {i["id"] for i in task["predictions"][0]["result"] if "id" in i and not i["id"].startswith("document-")}
        assert ids == {s["id"] for layer in ("zones", "entities", "claims", "bias_markers") for s in gold[layer]}
        assert interface.validate_prediction(task["predictions"][0], return_errors=True) == []


def test_round_trip_is_lossless(corpus_copy: Path) -> None:
    add_emoji_document(corpus_copy)
    before = {d: json.loads((corpus_copy / "annotations/gold" / f"{d}.json").read_text("utf-8")) for d in (*GOLD_DOCS, EMOJI_DOC)}
    rc, out, text = _import(corpus_copy, export_from_predictions(corpus_copy), "--annotator", "alice")
    assert rc == 0, text
    assert sorted(out["written"]) == [f"annotations/alice/{d}.json" for d in sorted(before)]
    for doc_id, gold in before.items():
        back = json.loads((corpus_copy / "annotations/alice" / f"{doc_id}.json").read_text("utf-8"))
        assert back["annotator"]["name"] == "alice" and back["annotator"]["kind"] == "person"
        assert {k: v for k, v in back.items() if k != "annotator"} == {k: v for k, v in gold.items() if k != "annotator"}
    assert run_chipwar("validate", str(corpus_copy / "annotations/alice")).returncode == 0


def test_changed_span_gets_labelstudio_provenance(corpus_copy: Path) -> None:
    export = export_from_predictions(corpus_copy)
    task = task_of(export, "reg-2023-qiming")
    polarity = next(i for i in region_items(task, "reg-2023-qiming:b3") if i["from_name"] == "polarity")
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
    for item in region_items(task_of(export, EMOJI_DOC), f"{EMOJI_DOC}:e1"):  # as a resize with the handles stores it
        start, end = item["value"]["start"], item["value"]["end"]
        item["value"].update(start=cp_to_utf16(EMOJI_TEXT, start), end=cp_to_utf16(EMOJI_TEXT, end))
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 0, text
    assert len(out["repaired"]) == 1 and f"{EMOJI_DOC}:e1" in out["repaired"][0] and "UTF-16" in out["repaired"][0]
    back = json.loads((corpus_copy / "annotations/alice" / f"{EMOJI_DOC}.json").read_text("utf-8"))
    e1 = next(s for s in back["entities"] if s["id"] == f"{EMOJI_DOC}:e1")
    assert EMOJI_TEXT[e1["start"]:e1["end"]] == "Huawei" == e1["text"]


def _wrong_text(export: list) -> None:
    item = region_items(task_of(export, "reg-2023-qiming"), "reg-2023-qiming:e6")[0]
    item["value"]["text"] = "Huawe"


def _unknown_label(export: list) -> None:
    region_items(task_of(export, "reg-2023-qiming"), "reg-2023-qiming:e6")[0]["value"]["labels"] = ["COMPANY"]


def _dangling_relation(export: list) -> None:
    task = task_of(export, "reg-2023-qiming")
    task["annotations"][0]["result"].append({"from_id": "reg-2023-qiming:b3", "to_id": "no-such-region", "type": "relation",
                                             "direction": "right", "labels": ["target"]})


def _changed_text(export: list) -> None:
    task_of(export, "tfi-2021-chip-crisis")["data"]["text"] += " (edited in Label Studio)"


def _ambiguous_offsets(export: list) -> None:
    for item in region_items(task_of(export, "reg-2023-qiming"), "reg-2023-qiming:e6"):
        item["value"].update(start=item["value"]["start"] + 3, end=item["value"]["end"] + 3)


def _attribute_of_another_layer(export: list) -> None:
    item = region_items(task_of(export, "reg-2023-qiming"), "reg-2023-qiming:e6")[0]
    export_item = {"id": item["id"], "from_name": "attribution_cue", "to_name": "text", "type": "textarea",
                   "value": {"start": item["value"]["start"], "end": item["value"]["end"], "text": ["said"]}}
    task_of(export, "reg-2023-qiming")["annotations"][0]["result"].append(export_item)


BAD_EXPORTS = {
    "attribute_of_another_layer": (_attribute_of_another_layer, "attribute_wrong_layer", "reg-2023-qiming", "reg-2023-qiming:e6"),
    "wrong_span_text": (_wrong_text, "offset_text_mismatch", "reg-2023-qiming", "reg-2023-qiming:e6"),
    "shifted_offsets": (_ambiguous_offsets, "offset_text_mismatch", "reg-2023-qiming", "reg-2023-qiming:e6"),
    "unknown_label": (_unknown_label, "unknown_label", "reg-2023-qiming", "reg-2023-qiming:e6"),
    "dangling_relation": (_dangling_relation, "dangling_relation", "reg-2023-qiming", "reg-2023-qiming:b3"),
    "changed_task_text": (_changed_text, "task_text_changed", "tfi-2021-chip-crisis", None),
}


@pytest.mark.parametrize("case", sorted(BAD_EXPORTS))
def test_bad_export_is_refused_and_nothing_written(case: str, corpus_copy: Path) -> None:
    breaker, code, doc_id, annotation_id = BAD_EXPORTS[case]
    export = export_from_predictions(corpus_copy)
    breaker(export)
    before = _snapshot(corpus_copy)
    rc, out, text = _import(corpus_copy, export, "--annotator", "alice")
    assert rc == 1
    assert _snapshot(corpus_copy) == before
    hits = [p for p in out["problems"] if p["code"] == code]
    assert hits, out["problems"]
    assert hits[0]["doc_id"] == doc_id and hits[0]["file"] == f"annotations/alice/{doc_id}.json"
    if annotation_id:
        assert hits[0]["annotation_id"] == annotation_id
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
    _unknown = region_items(task_of(export, "reg-2023-qiming"), "reg-2023-qiming:b3")
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
