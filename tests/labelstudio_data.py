"""Test data shared by the Label Studio tests: a document with emoji, CJK and combining marks, and exports."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from chipwar.corpus import Corpus
from chipwar.intake import IntakeRequest, intake_document
from chipwar.labelstudio.tasks import build_tasks, region_id

from .conftest import annotation_file, chain_link, entity, span_at, write_set

EMOJI_DOC = "test-emoji"
#: Astral emoji (a ZWJ sequence), CJK and a combining mark (q + U+0307) before every span; a second line with more emoji.
EMOJI_TEXT = ("Intro 😀👩\u200d🔬 中国芯片 q\u0307 — Huawei said 深圳 plants would double output, a reckless plan.\n"
              "🙂 新华社 carried the statement. 深圳 output will double. Chips are scarce, analysts say.\n")


def add_emoji_document(root: Path) -> dict[str, Any]:
    """Intake EMOJI_DOC into a corpus copy and give it a gold annotation file with claims, a marker and their links.

    Claim c1 has a two-link chain whose second cue is in another sentence; c2 restates c1, and its chain has a link
    with an entity but no cue and one with neither; c3's cue names no entity.
    """
    received = root / "received.txt"
    received.write_text(EMOJI_TEXT, "utf-8")
    intake_document(Corpus(root), IntakeRequest(
        received=received, doc_id=EMOJI_DOC, url=None, publisher=None, published=None, title=None, title_source="unknown",
        language="en", genre=None, rights_statement="Test text.", notes={}))
    received.unlink()
    t = EMOJI_TEXT
    huawei = entity(t, EMOJI_DOC, "e1", "Huawei", "ORG", "huawei")
    shenzhen = entity(t, EMOJI_DOC, "e2", "深圳", "GPE", "shenzhen")
    shenzhen["gpe_role"] = "location"
    xinhua = entity(t, EMOJI_DOC, "e3", "新华社", "ORG", "xinhua")
    xinhua["org_type"] = "media"
    claims = [
        span_at(t, EMOJI_DOC, "c1", "深圳 plants would double output", "prediction", check_worthiness="non_factual",
                claimant_type="entity", claimant_id="huawei", attribution_form="indirect",
                attribution_chain=[chain_link(t, "named_organization", "huawei", "Huawei said"),
                                   chain_link(t, "named_organization", "xinhua", "新华社 carried the statement")],
                restates=[f"{EMOJI_DOC}:c2"], certainty="probable"),
        span_at(t, EMOJI_DOC, "c2", "深圳 output will double", "prediction", check_worthiness="non_factual",
                claimant_type="entity", claimant_id="huawei", attribution_form="reported",
                attribution_chain=[chain_link(t, "named_organization", "huawei", None), chain_link(t, "anonymous", None, None)],
                restates=[f"{EMOJI_DOC}:c1"], certainty="probable"),
        span_at(t, EMOJI_DOC, "c3", "Chips are scarce", "event_property", check_worthiness="check_worthy",
                claimant_type="unidentified", claimant_id=None, attribution_form="indirect",
                attribution_chain=[chain_link(t, "vague_collective", None, "analysts say")], restates=[], certainty="certain"),
    ]
    marker = span_at(t, EMOJI_DOC, "b1", "reckless", "loaded_language", target_ids=["huawei"], polarity="negative",
                     intensity="medium", in_quote=False, quote_speaker_id=None)
    marker["note"] = "A note that must survive."
    data = annotation_file(EMOJI_DOC, t, annotator="gold", entities=[huawei, shenzhen, xinhua], claims=claims, bias_markers=[marker])
    data["canonical_entities"] = [{"id": "huawei", "name": "Huawei", "label": "ORG", "kb_ids": []},
                                  {"id": "shenzhen", "name": "Shenzhen", "label": "GPE", "kb_ids": []},
                                  {"id": "xinhua", "name": "Xinhua", "label": "ORG", "kb_ids": []}]
    data["document_labels"] = {"genre": "news_report", "primary_frame": "economic", "tone": "neutral",
                               "provenance": {"agent": "test", "origin": "manual", "created": "2026-11-24T00:00:00Z"}, "note": None}
    write_set(root, "gold", data)
    return data


def export_from_predictions(root: Path, set_name: str = "gold", completed_by: Any = 7) -> list[dict[str, Any]]:
    """A full JSON export as Label Studio gives it after an annotator submitted every pre-annotation unchanged."""
    export = []
    for n, task in enumerate(build_tasks(Corpus(root), set_name), 1):
        result = copy.deepcopy(task["predictions"][0]["result"]) if task.get("predictions") else []
        export.append({"id": n, "data": task["data"], "predictions": [n], "annotations": [
            {"id": n, "completed_by": completed_by, "was_cancelled": False, "result": result,
             "created_at": "2026-11-30T10:00:00.123456Z", "updated_at": "2026-11-30T10:05:00.654321Z"}]})
    return export


def task_of(export: list[dict], doc_id: str) -> dict:
    return next(t for t in export if t["data"]["doc_id"] == doc_id)


def region_items(task: dict, span_or_region_id: str) -> list[dict]:
    """The result items of a region, named by its Label Studio id (``b3``) or by our span id (``reg-2023-qiming:b3``)."""
    wanted = region_id(span_or_region_id)
    return [i for i in task["annotations"][0]["result"] if i.get("id") == wanted]


def server_env(server: Any, token: str) -> dict[str, str]:
    """The environment `chipwar labelstudio push|pull` reads to reach a test server."""
    return {"LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": token}
