"""The guidelines' worked example file (§2.6) is a valid annotation file of schema 2.0.0, checked like any other."""

from __future__ import annotations

import json
import re
from pathlib import Path

from chipwar.files import sha256_text
from chipwar.report import Report
from chipwar.schema import load_schemas
from chipwar.validation.annotations import check_annotation_data


def test_the_worked_example_validates_against_its_text(repo: Path) -> None:
    guide = (repo / "annotations" / "GUIDELINES.md").read_text("utf-8")
    section = guide[guide.index("### 2.6"):guide.index("## 3.")]
    text_block = re.search(r"```text\n(.*?)```", section, re.S)
    json_block = re.search(r"```json\n(.*?)```", section, re.S)
    assert text_block and json_block, "§2.6 holds the example text and its annotation file"
    text, data = text_block.group(1), json.loads(json_block.group(1))
    assert data["schema_version"] == load_schemas(repo / "schema").version
    report = Report()
    assert data["text_sha256"] == sha256_text(text)
    check_annotation_data(load_schemas(repo / "schema"), data, "GUIDELINES.md §2.6", data["doc_id"], text, sha256_text(text), report)
    assert report.problems == []
    claims = data["claims"]
    assert any(len(c["attribution_chain"]) >= 2 and all(link["cue"] for link in c["attribution_chain"]) for c in claims)
    assert any(c["restates"] for c in claims)
