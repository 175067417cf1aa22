"""Malformed exports never crash ``chipwar labelstudio import``.

Every field an export has gets values of every JSON type (and a few hostile ones of the
right type); each import must end with exit code 1 (problems, located in the export) or 2
(not an export at all), never 3, and write nothing. A value that is harmless where it is
(a cancelled flag that is a string, a time that is not one) may import: then what it wrote
passes ``chipwar validate``.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO, flat, run_chipwar
from .labelstudio_data import EMOJI_DOC, add_emoji_document, export_from_predictions

HUGE = "x" * 2_000_000
DEEP = "\x00DEEP\x00"  # replaced in the JSON text by a list nested 1,000 deep (a Python object that deep cannot be dumped)
HOSTILE: list[Any] = [None, True, False, 0, -1, 2**62, 1.5, -0.0, "", "x", "../corpus/x", HUGE, [], [None], [1, "a", {}],
                      {}, {"a": None}, {"id": []}, DEEP]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus copy with the emoji document: small, with every layer, attribute, relation, chain link and document label."""
    root = tmp_path_factory.mktemp("fuzz") / "repo"
    for name in ("corpus", "schema", "annotations"):
        shutil.copytree(REPO / name, root / name)
    add_emoji_document(root)
    return root


@pytest.fixture(scope="module")
def export(corpus: Path) -> list[dict]:
    """The emoji document's task, with its gold annotations submitted unchanged, and document labels with a note."""
    [task] = [t for t in export_from_predictions(corpus) if t["data"]["doc_id"] == EMOJI_DOC]
    task["annotations"][0]["result"].append({"id": "document-note", "from_name": "document_note", "to_name": "text",
                                             "type": "textarea", "value": {"text": ["checked"]}})
    return [task]


def _item(pick: Callable[[dict], bool]) -> Callable[[list], dict]:
    def find(export: list) -> dict:
        return next(i for i in export[0]["annotations"][0]["result"] if pick(i))
    return find


LABEL = _item(lambda i: i.get("type") == "labels" and i["from_name"] == "claims")
CHOICE = _item(lambda i: i.get("from_name") == "polarity")
BOOL = _item(lambda i: i.get("from_name") == "in_quote")
CANONICAL = _item(lambda i: i.get("from_name") == "canonical_id")
NOTE = _item(lambda i: i.get("from_name") == "note")
RELATION = _item(lambda i: i.get("type") == "relation")
CUE = _item(lambda i: i.get("from_name") == "attribution_cues")
CUE_KIND = _item(lambda i: i.get("from_name") == "cue_kind")
UNCUED_KIND = _item(lambda i: i.get("from_name") == "source_2_kind")
BOTH = _item(lambda i: i.get("type") == "relation" and len(i["labels"]) == 2)  # claimant and source-1 of one pair
RESTATES = _item(lambda i: i.get("type") == "relation" and i["labels"] == ["restates"])
DOC_CHOICE = _item(lambda i: i.get("from_name") == "genre")
DOC_NOTE = _item(lambda i: i.get("from_name") == "document_note")


def _task(export: list) -> dict:
    return export[0]


def _data(export: list) -> dict:
    return export[0]["data"]


def _annotation(export: list) -> dict:
    return export[0]["annotations"][0]


#: field -> (container in the export, key, the JSON type the field has, or None: anything there may be harmless)
FIELDS: dict[str, tuple[Callable[[list], Any], str | int, type | tuple | None]] = {
    "task": (lambda e: e, 0, dict),
    "task.data": (_task, "data", dict),
    "task.annotations": (_task, "annotations", list),
    "data.doc_id": (_data, "doc_id", str),
    "data.text": (_data, "text", str),
    "data.text_sha256": (_data, "text_sha256", str),
    "data.chipwar": (_data, "chipwar", None),
    "annotation": (lambda e: e[0]["annotations"], 0, dict),
    "annotation.result": (_annotation, "result", list),
    "annotation.completed_by": (_annotation, "completed_by", None),
    "annotation.updated_at": (_annotation, "updated_at", None),
    "annotation.was_cancelled": (_annotation, "was_cancelled", None),
    "result item": (lambda e: e[0]["annotations"][0]["result"], 0, dict),
    "label.id": (LABEL, "id", str),
    "label.from_name": (LABEL, "from_name", str),
    "label.type": (LABEL, "type", str),
    "label.value": (LABEL, "value", dict),
    "label.value.start": (lambda e: LABEL(e)["value"], "start", int),
    "label.value.end": (lambda e: LABEL(e)["value"], "end", int),
    "label.value.text": (lambda e: LABEL(e)["value"], "text", str),
    "label.value.labels": (lambda e: LABEL(e)["value"], "labels", list),
    "choice.value": (CHOICE, "value", dict),
    "choice.value.choices": (lambda e: CHOICE(e)["value"], "choices", list),
    "bool.value.choices": (lambda e: BOOL(e)["value"], "choices", list),
    "canonical.value.choices": (lambda e: CANONICAL(e)["value"], "choices", list),
    "note.value.text": (lambda e: NOTE(e)["value"], "text", None),
    "note.id": (NOTE, "id", str),
    "relation.from_id": (RELATION, "from_id", str),
    "relation.to_id": (RELATION, "to_id", str),
    "relation.labels": (RELATION, "labels", list),
    "relation.type": (RELATION, "type", str),
    "cue.id": (CUE, "id", str),
    "cue.value.start": (lambda e: CUE(e)["value"], "start", int),
    "cue.value.labels": (lambda e: CUE(e)["value"], "labels", list),
    "cue_kind.value.choices": (lambda e: CUE_KIND(e)["value"], "choices", list),
    "uncued_kind.value.choices": (lambda e: UNCUED_KIND(e)["value"], "choices", list),
    "chain_relation.labels": (BOTH, "labels", list),
    "chain_relation.to_id": (BOTH, "to_id", str),
    "restates.from_id": (RESTATES, "from_id", str),
    "restates.labels": (RESTATES, "labels", list),
    "document.value.choices": (lambda e: DOC_CHOICE(e)["value"], "choices", list),
    "document.id": (DOC_CHOICE, "id", str),
    "document_note.value.text": (lambda e: DOC_NOTE(e)["value"], "text", list),
}


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in (root / "annotations").rglob("*") if p.is_file()}


def _wrong_type(value: Any, kind: type | None) -> bool:
    """True when ``value`` is not of the field's JSON type (a bool is no int, a float no int)."""
    if kind is None or value == DEEP:
        return kind is not None
    if kind is int:
        return type(value) is not int
    return not isinstance(value, kind)


def _run(root: Path, text: str | bytes, name: str = "export.json") -> tuple[int, str, str]:
    path = root.parent / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    done = run_chipwar("labelstudio", "import", str(path), "--annotator", "fuzz", "--corpus", str(root), "--format", "json")
    return done.returncode, done.stdout, done.stderr


def _check(root: Path, before: dict[str, bytes], label: str, rc: int, stdout: str, stderr: str, must_fail: bool) -> list[str]:
    """What is wrong with one run (empty when it behaved); undoes a clean import so the next run starts the same."""
    wrong = []
    if rc not in (0, 1, 2) or "Traceback" in stdout + stderr:
        wrong.append(f"{label}: exit {rc}: {(stdout + stderr)[:300]}")
    elif must_fail and rc == 0:
        wrong.append(f"{label}: imported a malformed value")
    elif rc != 0:
        if _snapshot(root) != before:
            wrong.append(f"{label}: exit {rc} but annotations/ changed")
        out = flat(stdout)
        if rc == 1 and not any(p["severity"] == "error" for p in out["problems"]):
            wrong.append(f"{label}: exit 1 without a problem")
        if rc == 1 and not all(p["pointer"] for p in out["problems"] if p["file"].endswith("export.json")):
            wrong.append(f"{label}: a problem in the export without a pointer")
    elif (root / "annotations/fuzz").exists():
        valid = run_chipwar("validate", str(root / "annotations/fuzz"))
        if valid.returncode != 0:
            wrong.append(f"{label}: imported, but the file is invalid: {valid.stdout[:300]}")
        shutil.rmtree(root / "annotations/fuzz")
    return wrong


def _dump(export: list) -> str:
    text = json.dumps(export, ensure_ascii=False)
    return text.replace(json.dumps(DEEP), "[" * 1000 + "]" * 1000)


def test_the_unbroken_export_imports(corpus: Path, export: list) -> None:
    """The fuzz starts from an export that imports cleanly, so each failure below is the mutation's."""
    rc, stdout, stderr = _run(corpus, _dump(export))
    assert rc == 0, stdout + stderr
    shutil.rmtree(corpus / "annotations/fuzz")


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_every_field_with_every_type_fails_cleanly(name: str, corpus: Path, export: list) -> None:
    where, key, kind = FIELDS[name]
    before = _snapshot(corpus)
    wrong: list[str] = []
    for value in [*HOSTILE, "delete"]:
        broken = copy.deepcopy(export)
        container = where(broken)
        if value == "delete":
            if isinstance(container, list):
                container.pop(key)
            else:
                container.pop(key, None)
        else:
            container[key] = value
        label = f"{name} = {'<deleted>' if value == 'delete' else json.dumps(value)[:40]}"
        must_fail = value != "delete" and _wrong_type(value, kind)
        wrong += _check(corpus, before, label, *_run(corpus, _dump(broken)), must_fail=must_fail)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: type(v).__name__ + ("-huge" if v == HUGE else "") + ("-deep" if v == DEEP else ""))
def test_an_export_that_is_not_a_list_of_tasks_is_a_usage_error(value: Any, corpus: Path) -> None:
    """Also an empty list: an export without tasks has nothing to import, which is said, not done silently."""
    before = _snapshot(corpus)
    rc, stdout, stderr = _run(corpus, _dump(value))
    if (isinstance(value, list) and value) or value == DEEP:
        assert rc in (0, 1), stdout + stderr  # a list: its items are tasks, each refused by itself
    else:
        assert rc == 2 and flat(stdout)["error"]["code"] == "usage_error", stdout + stderr
    assert _snapshot(corpus) == before


#: raw file -> what it is
BAD_FILES = {
    b"": "an empty file",
    b"\xff\xfe[]": "invalid UTF-8",
    b'[{"data": {"doc_id": "\xc3\x28"}}]': "invalid UTF-8 inside a string",
    b'["\\ud800"]': "a lone surrogate",
    b"[1, 2": "truncated JSON",
    b"[NaN]": "NaN",
    b"[1e400]": "a number too large for a double",
    b"[" * 2000 + b"]" * 2000: "nesting deeper than any parser allows",
    b"\xef\xbb\xbf[]": "a byte-order mark",
}


@pytest.mark.parametrize("raw", list(BAD_FILES), ids=list(BAD_FILES.values()))
def test_a_file_that_is_not_json_is_a_usage_error(raw: bytes, corpus: Path) -> None:
    before = _snapshot(corpus)
    rc, stdout, stderr = _run(corpus, raw)
    assert rc == 2, stdout + stderr
    assert flat(stdout)["error"]["code"] == "usage_error" and "not valid JSON" in flat(stdout)["error"]["message"]
    assert _snapshot(corpus) == before


def test_a_folder_or_missing_file_as_export_is_refused(corpus: Path, tmp_path: Path) -> None:
    before = _snapshot(corpus)
    for path, words in ((tmp_path, "folder"), (tmp_path / "missing.json", "no such file"), (Path("/dev/zero"), "device")):
        done = run_chipwar("labelstudio", "import", str(path), "--annotator", "fuzz", "--corpus", str(corpus), "--format", "json")
        assert done.returncode == 2 and words in flat(done.stdout)["error"]["message"], done.stdout
    assert _snapshot(corpus) == before


def test_many_bad_items_at_once_are_each_named(corpus: Path, export: list) -> None:
    """Every broken item is its own problem, pointing at it; the good ones are not blamed."""
    broken = copy.deepcopy(export)
    result = broken[0]["annotations"][0]["result"]
    result += [None, 7, {"id": "r1", "from_name": "entities", "type": "labels", "value": {"start": "0", "end": 4.0, "text": 1}},
               {"type": "relation", "from_id": {"x": 1}, "to_id": [1], "labels": "target"}]
    rc, stdout, _ = _run(corpus, _dump(broken))
    out = flat(stdout)
    assert rc == 1
    n = len(export[0]["annotations"][0]["result"])
    pointers = {p["pointer"] for p in out["problems"]}
    assert {f"/0/annotations/0/result/{n}", f"/0/annotations/0/result/{n + 1}",
            f"/0/annotations/0/result/{n + 2}/value", f"/0/annotations/0/result/{n + 3}"} <= pointers, pointers
    assert len(out["problems"]) == 4, out["problems"]
