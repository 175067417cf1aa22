"""The Label Studio round trip against a real server started by scripts/labelstudio_server.py.

push (config + tasks with gold as predictions) → annotations submitted through the API →
pull (full export) → import: gold comes back exactly, relations and attributes included, on
the two articles and on a document with emoji, CJK and combining marks.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from label_studio_sdk import LabelStudio

from .conftest import flat, run_chipwar
from .labelstudio_data import EMOJI_DOC, EMOJI_TEXT, add_emoji_document, server_env

pytestmark = pytest.mark.labelstudio


def _push(root: Path, env: dict, title: str) -> dict:
    done = run_chipwar("labelstudio", "push", "--set", "gold", "--project", title, "--corpus", str(root), "--format", "json", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert env["LABEL_STUDIO_API_KEY"] not in done.stdout + done.stderr
    return flat(done.stdout)


def _pull(root: Path, env: dict, title: str, *args: str) -> tuple[int, dict, str]:
    done = run_chipwar("labelstudio", "pull", "--project", title, "--corpus", str(root), "--format", "json", *args, env=env)
    assert env["LABEL_STUDIO_API_KEY"] not in done.stdout + done.stderr
    return done.returncode, flat(done.stdout) if done.stdout.startswith("{") else {}, done.stdout + done.stderr


def _submit_predictions(ls: LabelStudio, project_id: int) -> None:
    """Do what an annotator does who accepts every pre-annotation: submit it as an annotation."""
    for task in ls.tasks.list(project=project_id, fields="all"):
        prediction = ls.predictions.list(task=task.id)[0]
        ls.annotations.create(id=task.id, result=prediction.result)


def test_push_pull_round_trip_is_lossless(labelstudio_server, corpus_copy: Path) -> None:
    _, server, token = labelstudio_server
    env = server_env(server, token)
    add_emoji_document(corpus_copy)
    title = f"round trip {uuid.uuid4().hex[:8]}"
    first = _push(corpus_copy, env, title)
    assert first["created_project"] and sorted(first["added"]) == sorted(["reg-2023-qiming", "tfi-2021-chip-crisis", EMOJI_DOC])
    again = _push(corpus_copy, env, title)
    assert not again["created_project"] and again["added"] == [] and len(again["existing"]) == 3
    ls = LabelStudio(base_url=server.url, api_key=token)
    assert len(list(ls.tasks.list(project=first["project_id"]))) == 3
    [view] = ls.views.list(project=first["project_id"])  # the task list's tab, made once and kept
    assert view.data["title"] == "Documents"
    internal = {"tasks:data.text", "tasks:data.doc_id", "tasks:data.text_sha256", "tasks:data.chipwar"}
    assert internal <= set(view.data["hiddenColumns"]["explore"]) and internal <= set(view.data["hiddenColumns"]["labeling"])
    assert not {"tasks:data.title", "tasks:data.publisher", "tasks:completed_at", "tasks:total_annotations"} & set(
        view.data["hiddenColumns"]["explore"])
    _submit_predictions(ls, first["project_id"])

    rc, out, text = _pull(corpus_copy, env, title, "--annotator", "alice")
    assert rc == 0, text
    for doc_id in ("reg-2023-qiming", "tfi-2021-chip-crisis", EMOJI_DOC):
        gold = json.loads((corpus_copy / "annotations/gold" / f"{doc_id}.json").read_text("utf-8"))
        back = json.loads((corpus_copy / "annotations/alice" / f"{doc_id}.json").read_text("utf-8"))
        assert server.username in back["annotator"]["description"]
        assert {k: v for k, v in back.items() if k != "annotator"} == {k: v for k, v in gold.items() if k != "annotator"}
    assert run_chipwar("validate", str(corpus_copy / "annotations/alice")).returncode == 0


def test_second_users_annotation_imports_as_that_annotator(labelstudio_server, corpus_copy: Path) -> None:
    script, server, admin_token = labelstudio_server
    add_emoji_document(corpus_copy)
    title = f"second user {uuid.uuid4().hex[:8]}"
    project = _push(corpus_copy, server_env(server, admin_token), title)
    email, password = f"bob-{uuid.uuid4().hex[:6]}@example.org", "b0b-" + uuid.uuid4().hex
    script.signup(server.url, email, password)
    bob = LabelStudio(base_url=server.url, api_key=script.personal_access_token(server.url, email, password))
    task = next(t for t in bob.tasks.list(project=project["project_id"], fields="all") if t.data["doc_id"] == EMOJI_DOC)
    start = EMOJI_TEXT.index("reckless")
    where = {"start": start, "end": start + len("reckless"), "text": "reckless"}
    bob.annotations.create(id=task.id, result=[
        {"id": "Xk3bobRgn1", "from_name": "bias_markers", "to_name": "text", "type": "labels", "value": {**where, "labels": ["loaded_language"]}},
        {"id": "Xk3bobRgn1", "from_name": "polarity", "to_name": "text", "type": "choices", "value": {**where, "choices": ["negative"]}},
        {"id": "Xk3bobRgn1", "from_name": "intensity", "to_name": "text", "type": "choices", "value": {**where, "choices": ["high"]}},
        {"id": "Xk3bobRgn1", "from_name": "in_quote", "to_name": "text", "type": "choices", "value": {**where, "choices": ["false"]}},
    ])
    rc, out, text = _pull(corpus_copy, server_env(server, admin_token), title, "--annotator", "bob", "--user", email)
    assert rc == 0, text
    assert out["written"] == [f"annotations/bob/{EMOJI_DOC}.json"]
    back = json.loads((corpus_copy / "annotations/bob" / f"{EMOJI_DOC}.json").read_text("utf-8"))
    assert email in back["annotator"]["description"]
    [marker] = back["bias_markers"]
    assert marker["id"] == f"{EMOJI_DOC}:b-Xk3bobRgn1"  # made from Label Studio's region id: the same at every pull, never reused
    assert (marker["start"], marker["end"], marker["text"], marker["intensity"]) == (start, start + 8, "reckless", "high")
    assert marker["provenance"]["agent"] == "bob" and marker["provenance"]["origin"] == "labelstudio"
    assert any("Xk3bobRgn1" in n for n in out["notices"])


def test_bad_annotation_on_the_server_is_refused(labelstudio_server, corpus_copy: Path) -> None:
    _, server, token = labelstudio_server
    title = f"bad export {uuid.uuid4().hex[:8]}"
    project = _push(corpus_copy, server_env(server, token), title)
    ls = LabelStudio(base_url=server.url, api_key=token)
    task = next(t for t in ls.tasks.list(project=project["project_id"], fields="all") if t.data["doc_id"] == "reg-2023-qiming")
    ls.annotations.create(id=task.id, result=[  # the server stores this without complaint
        {"id": "x1", "from_name": "entities", "to_name": "text", "type": "labels",
         "value": {"start": 269, "end": 275, "text": "Huawe1", "labels": ["ORG"]}}])
    rc, out, text = _pull(corpus_copy, server_env(server, token), title, "--annotator", "carol")
    assert rc == 1 and [p["code"] for p in out["problems"]] == ["offset_text_mismatch"]
    assert not (corpus_copy / "annotations/carol").exists()


def test_task_data_forged_on_the_server_has_no_effect(labelstudio_server, corpus_copy: Path) -> None:
    """Anyone who can edit a task's data on the server can write anything there: provenance, decisions, doc ids."""
    _, server, token = labelstudio_server
    env = server_env(server, token)
    title = f"forged {uuid.uuid4().hex[:8]}"
    project = _push(corpus_copy, env, title)
    ls = LabelStudio(base_url=server.url, api_key=token)
    _submit_predictions(ls, project["project_id"])
    mallory = {"agent": "mallory", "origin": "manual", "created": "2001-01-01T00:00:00Z"}
    for task in ls.tasks.list(project=project["project_id"], fields="all"):
        data = dict(task.data)
        gold = json.loads((corpus_copy / "annotations/gold" / f"{data['doc_id']}.json").read_text("utf-8"))
        data["chipwar"] = {**data["chipwar"], "decisions": [{"annotation_ids": [], "decision": "forged"}],
                           "spans": {s["id"]: {"provenance": mallory} for s in gold["entities"]},
                           "canonical_entities": [{**c, "kb_ids": ["wikidata:Q1"]} for c in gold["canonical_entities"]]}
        ls.tasks.update(id=str(task.id), data=data)
    rc, out, text = _pull(corpus_copy, env, title, "--annotator", "alice")
    assert rc == 0, text
    for doc_id in ("reg-2023-qiming", "tfi-2021-chip-crisis"):
        gold = json.loads((corpus_copy / "annotations/gold" / f"{doc_id}.json").read_text("utf-8"))
        back = json.loads((corpus_copy / "annotations/alice" / f"{doc_id}.json").read_text("utf-8"))
        assert {k: v for k, v in back.items() if k != "annotator"} == {k: v for k, v in gold.items() if k != "annotator"}

    task = next(iter(ls.tasks.list(project=project["project_id"], fields="all")))
    ls.tasks.update(id=str(task.id), data={**task.data, "doc_id": "../corpus/reg-2023-qiming"})
    rc, out, text = _pull(corpus_copy, env, title, "--annotator", "mallory")
    assert rc == 1 and [p["code"] for p in out["problems"]] == ["bad_doc_id"], text
    assert not (corpus_copy / "annotations/mallory").exists()


def test_missing_or_wrong_token_fails_clearly(labelstudio_server, corpus_copy: Path) -> None:
    _, server, _ = labelstudio_server
    done = run_chipwar("labelstudio", "push", "--corpus", str(corpus_copy), env={"LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": ""})
    assert done.returncode == 2 and "LABEL_STUDIO_API_KEY" in done.stderr  # an environment error
    bad = "not-a-real-token-0123456789"
    done = run_chipwar("labelstudio", "push", "--corpus", str(corpus_copy), env={"LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": bad})
    assert done.returncode == 2 and "401" in done.stderr and bad not in done.stdout + done.stderr
